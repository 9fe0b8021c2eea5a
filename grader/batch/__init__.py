"""Instructor batch grading: `hwgrade grade` over a class, `hwgrade merge` of shards.

  layouts.py      what is in SUBMISSIONS: a Submission per student (folders, files,
                  Moodle and Canvas downloads), the rest listed
  idmap.py        --ids MAPPING.csv: student ids from LMS names
  shards.py       --shard I/N: a stable share of the students
  fingerprint.py  content hashes of submissions, the assignment and the grader
  journal.py      the durable, append-only journal every output is rebuilt from
  rows.py         a gradebook row per submission, from the journal
  runner.py       the pool of grader processes (child.py), one submission each
  gradebook.py    gradebook.csv, results.jsonl, feedback/, summary.txt, batch.json
  progress.py     the progress bar and per-result lines on stderr
  run.py          grade_batch: all of the above, in order
  merge.py        merge_outdirs: shard outputs into one
"""
