"""The HTML report's fixed texts, in English and Traditional Chinese (zh-TW).

The language comes from the result's `lang` ("en" when absent or unknown).
Everything else a student reads there (check titles and messages, exercise
titles, observations, configuration labels) is already in their language.
"""

from __future__ import annotations

EN = {
    "heading": "hwgrade check {assignment}",
    "score": "Score",
    "checks_count": "{n} checks: {counts}",
    "none": "none",
    "passed": "passed",
    "failed": "failed",
    "not_run": "not run",
    "error": "grader error",
    "pending": "{points} more points will be decided by hidden checks when your instructor "
               "grades the submission.",
    "not_graded": "Your submission could not be graded:",
    "note": "Note:",
    "skipped": "{n} notebook statement(s) were not run (only imports, functions, classes and "
               "constants are graded):",
    "checks": "Checks",
    "col_status": "status",
    "col_points": "points",
    "col_check": "check",
    "col_details": "what went wrong",
    "hidden": "hidden",
    "expected": "expected",
    "got": "got",
    "input": "input",
    "hint": "hint",
    "needs": "not run: needs {names}",
    "grader_fault": "This is a problem in the grader, not in your code: your instructor will "
                    "look into it.",
    "exercise": "Exercise {n}",
    "observation": "Observation:",
    "reproduced": "reproduced with your functions",
    "not_reproduced": "not reproduced with your functions",
    "undecided": "not decided",
    "comparison": "500-epoch comparison with the reference:",
    "varied": "Varied: {setting}",
    "col_config": "setting",
    "col_student": "your final test loss",
    "col_reference": "reference's final test loss",
    "col_diverged": "diverged",
    "col_within": "within the reference",
    "spread_note": "Final test loss: median (10th–90th percentile) over the runs that did not "
                   "diverge.",
    "yes": "yes",
    "no": "no",
    "unknown": "–",
    "no_run": "no result",
    "curves": "Test loss (vertical) over epochs (horizontal)",
    "curves_key": "solid: your median · dashed: the reference's median · band: the "
                  "reference's 10th–90th percentile",
    "no_curves": "No learning curves: training produced none.",
    "boundary": "Decision boundary of your network: {label}, seed {seed}",
    "boundary_key": "blue where the network says +1, orange where it says −1, paler where it "
                    "is unsure; circles are the data points in their class colour, white-edged "
                    "for training, black-edged for test",
    "no_boundary": "No decision boundary: training produced none.",
    "no_configs": "No configurations were trained.",
    "footer": "Written by hwgrade {version}.",
}

ZH_TW = {
    "heading": "hwgrade check {assignment}",
    "score": "分數",
    "checks_count": "共 {n} 項檢查：{counts}",
    "none": "無",
    "passed": "通過",
    "failed": "未通過",
    "not_run": "未執行",
    "error": "評分程式錯誤",
    "pending": "另有 {points} 分由隱藏檢查決定，會在老師評分時計入。",
    "not_graded": "你的作業無法評分：",
    "note": "注意：",
    "skipped": "筆記本中有 {n} 個敘述沒有執行（只評分 import、函式、類別與常數）：",
    "checks": "檢查",
    "col_status": "狀態",
    "col_points": "分數",
    "col_check": "檢查項目",
    "col_details": "問題說明",
    "hidden": "隱藏",
    "expected": "預期",
    "got": "實際",
    "input": "輸入",
    "hint": "提示",
    "needs": "未執行：需要先通過 {names}",
    "grader_fault": "這是評分程式的問題，不是你的程式碼的問題；老師會處理。",
    "exercise": "練習 {n}",
    "observation": "觀察：",
    "reproduced": "用你的函式重現了",
    "not_reproduced": "用你的函式沒有重現",
    "undecided": "無法判定",
    "comparison": "與參考解答比較 500 個 epoch：",
    "varied": "改變的設定：{setting}",
    "col_config": "設定",
    "col_student": "你的最終測試損失",
    "col_reference": "參考解答的最終測試損失",
    "col_diverged": "發散",
    "col_within": "在參考範圍內",
    "spread_note": "最終測試損失：沒有發散的訓練的中位數（第 10–90 百分位數）。",
    "yes": "是",
    "no": "否",
    "unknown": "–",
    "no_run": "沒有結果",
    "curves": "測試損失（縱軸）隨 epoch（橫軸）的變化",
    "curves_key": "實線：你的中位數 · 虛線：參考解答的中位數 · 色帶：參考解答的第 10–90 百分位數",
    "no_curves": "沒有學習曲線：訓練沒有產生任何結果。",
    "boundary": "你的網路的決策邊界：{label}，seed {seed}",
    "boundary_key": "網路輸出 +1 處為藍色，−1 處為橘色，越淡表示越不確定；圓點是資料點，"
                    "顏色為其類別，白邊為訓練資料，黑邊為測試資料",
    "no_boundary": "沒有決策邊界：訓練沒有產生結果。",
    "no_configs": "沒有訓練任何設定。",
    "footer": "由 hwgrade {version} 產生。",
}

LABELS = {"en": EN, "zh-TW": ZH_TW}


def language(lang: object) -> str:
    """The supported language for a result's `lang`: zh-TW for any Chinese tag, else en."""
    if isinstance(lang, str) and lang.lower().replace("_", "-").startswith("zh"):
        return "zh-TW"
    return "en"


def labels(lang: object) -> dict[str, str]:
    return LABELS[language(lang)]
