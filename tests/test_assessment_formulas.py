"""Each formula of the assessment sheet on examples computed by hand (issue 15).

Pure functions: no database. Points before the cap and floor come from the formula; the
line's cap and floor (percent of the weight) are applied by `bounded`.
"""

from __future__ import annotations

from decimal import Decimal as D

from crm.services.assessment import formulas as f


def points(outcome: f.Outcome, weight: str, cap: str = "100", floor: str = "0") -> D:
    return f.bounded(outcome, D(weight), D(cap), D(floor))


# 01 / 02: growth -------------------------------------------------------------------------


def test_revenue_growth_is_the_growth_times_the_weight():
    # (105 000 − 100 000) ÷ 100 000 = 5 %; × weight 10 = 0.5 points
    outcome = f.growth(D("105000"), D("100000"), D(10))
    assert outcome.actual == D("5.00")
    assert points(outcome, "10") == D("0.50")


def test_a_fall_takes_points_only_down_to_the_floor():
    # −20 % × 10 = −2 points: floor 0 % keeps 0; a floor of −10 % of the weight keeps −1
    outcome = f.growth(D("80000"), D("100000"), D(10))
    assert outcome.actual == D("-20.00")
    assert points(outcome, "10") == D("0.00")
    assert points(outcome, "10", floor="-10") == D("-1.00")
    assert points(outcome, "10", floor="-50") == D("-2.00")


def test_growth_above_the_cap_is_cut_at_the_cap():
    # +300 % × 10 = 30 points; cap 150 % of 10 = 15
    assert points(f.growth(D(400), D(100), D(10)), "10", cap="150") == D("15.00")


def test_zero_or_missing_last_period_revenue_is_growth_from_nothing_at_the_cap():
    for last in (None, D(0)):
        outcome = f.growth(D("5000"), last, D(10))
        assert outcome.note == f.NO_BASE and outcome.actual is None
        assert points(outcome, "10") == D("10.00")
        assert points(outcome, "10", cap="120") == D("12.00")


def test_no_revenue_in_either_period_earns_nothing():
    for now, last in ((None, None), (D(0), D(0)), (None, D(0))):
        outcome = f.growth(now, last, D(10))
        assert outcome.note == f.NO_FIGURES
        assert points(outcome, "10", floor="-100") == D("0.00")


def test_revenue_gone_entirely_is_minus_a_hundred_percent():
    outcome = f.growth(None, D("1000"), D(8))
    assert outcome.actual == D("-100.00")
    assert points(outcome, "8", floor="-100") == D("-8.00")


# 04, 05: shares --------------------------------------------------------------------------


def test_solution_share_is_solution_revenue_over_revenue_times_weight():
    # 30 000 ÷ 120 000 = 25 % × 10 = 2.5
    outcome = f.share(D("30000"), D("120000"), D(10))
    assert (outcome.actual, points(outcome, "10")) == (D("25.00"), D("2.50"))
    assert f.share(None, D("120000"), D(10)).actual == D("0.00")
    assert f.share(D(5), D(0), D(10)).note == f.NO_FIGURES


def test_arrears_recovery_is_recovered_over_due_times_weight():
    # 9 000 ÷ 12 000 = 75 % × 8 = 6
    outcome = f.recovery(D("9000"), D("12000"), D(8))
    assert (outcome.actual, points(outcome, "8")) == (D("75.00"), D("6.00"))


def test_nothing_due_counts_as_all_recovered():
    for due in (None, D(0)):
        outcome = f.recovery(None, due, D(8))
        assert outcome.note == f.NOTHING_DUE and points(outcome, "8") == D("8.00")


# 06: churn -------------------------------------------------------------------------------


def test_churn_rate_is_lines_lost_over_lines_before():
    assert f.churn_rate(3, 200, 197) == D("1.50")
    # No count before the period: the lines at its end plus those lost stand for it.
    assert f.churn_rate(2, None, 98) == D("2.00")
    assert f.churn_rate(0, None, None) is None


def test_churn_against_its_target():
    # target 2 %, actual 1.5 %: (2 − 1.5) ÷ 2 = 25 % × 6 = 1.5
    outcome = f.churn_against_target(D("1.5"), D(2), D(6))
    assert points(outcome, "6") == D("1.50")
    # Worse than the target: negative, kept at the floor.
    assert points(f.churn_against_target(D(3), D(2), D(6)), "6") == D("0.00")
    assert points(f.churn_against_target(D(3), D(2), D(6)), "6", floor="-100") == D("-3.00")
    # Nothing lost: the full weight.
    assert points(f.churn_against_target(D(0), D(2), D(6)), "6") == D("6.00")


def test_a_churn_target_of_zero_is_met_only_by_losing_nothing():
    met = f.churn_against_target(D(0), D(0), D(6))
    missed = f.churn_against_target(D("0.5"), D(0), D(6))
    assert met.note == missed.note == f.TARGET_ZERO
    assert (points(met, "6"), points(missed, "6")) == (D("6.00"), D("0.00"))


def test_churn_without_a_target_or_without_lines():
    assert f.churn_against_target(D(1), None, D(6)).note == f.NO_TARGET
    assert f.churn_against_target(None, D(2), D(6)).note == f.NO_FIGURES


def test_churn_by_ranking_among_the_team():
    # Churn 1, 2, 2, 4 among four: lowest takes 6, the two at 2 share the second place
    # (6 × 2 ÷ 3 = 4), the highest 0.
    peers = [D(1), D(2), D(2), D(4), None]
    assert points(f.by_rank(D(1), peers, D(6), lower_is_better=True), "6") == D("6.00")
    assert points(f.by_rank(D(2), peers, D(6), lower_is_better=True), "6") == D("4.00")
    assert points(f.by_rank(D(4), peers, D(6), lower_is_better=True), "6") == D("0.00")
    assert f.by_rank(D(1), [D(1)], D(6), lower_is_better=True).points == D(6)
    assert f.by_rank(None, peers, D(6), lower_is_better=True).note == f.NO_FIGURES


# 07: satisfaction ------------------------------------------------------------------------


def test_each_complaint_costs_two_points_down_to_the_floor():
    assert points(f.satisfaction(0, D(10), D(2)), "10") == D("10.00")
    assert points(f.satisfaction(3, D(10), D(2)), "10") == D("4.00")
    assert points(f.satisfaction(7, D(10), D(2)), "10") == D("0.00")  # −4, floor 0
    assert points(f.satisfaction(7, D(10), D(2)), "10", floor="-100") == D("-4.00")


# 03: business count ----------------------------------------------------------------------


def test_business_count_splits_the_weight_into_the_targets_shares():
    # Lines 450 of 500 (share 60 %): 0.9 × 0.6 × 12 = 6.48;
    # net lines 30 of 20 (share 40 %), capped at 120 %: 1.2 × 0.4 × 12 = 5.76. Total 12.24.
    outcome, parts = f.business_count(
        [("lines", D(450), D(500), D(60)), ("net_lines", D(30), D(20), D(40))], D(12), D(120)
    )
    assert [p.points for p in parts] == [D("6.48"), D("5.76")]
    assert points(outcome, "12", cap="120") == D("12.24")
    assert outcome.actual == D("102.00")  # 90 % × 0.6 + 120 % × 0.4


def test_business_count_without_targets_earns_nothing():
    outcome, parts = f.business_count([], D(12), D(120))
    assert outcome.note == f.NO_TARGET and parts == []


# CRM activity: achieved ÷ target × weight, capped -----------------------------------------


def test_activity_is_achieved_over_target_capped():
    # 45 visits of 50 × 8 = 7.2; 70 of 50 = 11.2, capped at 120 % of 8 = 9.6
    assert points(f.achievement(D(45), D(50), D(8)), "8", cap="120") == D("7.20")
    assert points(f.achievement(D(70), D(50), D(8)), "8", cap="120") == D("9.60")
    assert points(f.achievement(D(70), D(50), D(8)), "8") == D("8.00")


def test_activity_without_a_target_earns_nothing_and_a_zero_target_is_met():
    assert f.achievement(D(5), None, D(8)).note == f.NO_TARGET
    assert points(f.achievement(D(5), None, D(8)), "8") == D("0.00")
    zero = f.achievement(D(0), D(0), D(8))
    assert zero.note == f.TARGET_ZERO and points(zero, "8") == D("8.00")


def test_ratios_in_percent():
    assert f.ratio_percent(2, 3) == D("66.67")
    assert f.ratio_percent(0, 0) is None


# Temporary tasks -------------------------------------------------------------------------


def test_temporary_tasks_are_the_weighted_average_score_times_their_weight():
    # Scores 90 (weight 2) and 60 (weight 1): (180 + 60) ÷ 3 = 80 % of 20 = 16
    assert f.temporary_tasks([(D(90), 2), (D(60), 1)], D(20)) == (D("16.00"), None)
    # An unscored task counts 0 until scored: 90 × 2 ÷ 3 = 60 % of 20 = 12
    assert f.temporary_tasks([(D(90), 2), (None, 1)], D(20)) == (D("12.00"), f.UNSCORED)
    assert f.temporary_tasks([], D(20)) == (D(0), f.NO_TASKS)
