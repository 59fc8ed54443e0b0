"""A–E grading and follow-up cadence: the rules of DESIGN.md, at and around every boundary."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from frames import frame
from hypothesis import given
from hypothesis import strategies as st

from xlcrm.ops.followup import due_list, schedule, stale_list
from xlcrm.ops.grade import grade_customers
from xlcrm.settings import Settings

TODAY = dt.date(2026, 11, 23)
S = Settings()


def grade_of(demand=None, close_in=None, override=None, followups=()):
    close = pd.Timestamp(TODAY) + pd.Timedelta(days=close_in) if close_in is not None else None
    c = frame("customers", [{"customer_id": "C1", "demand": demand, "expected_close": close,
                             "grade_override": override, "created": "2025-01-01"}])
    f = frame("followups", list(followups))
    return grade_customers(c, f, S, TODAY).iloc[0]


def expected_grade(demand, days):
    if demand == "none":
        return "E"
    if demand == "latent":
        return "D"
    if days is None:
        return "D"
    if days <= 30:
        return "A"
    if days <= 90:
        return "B"
    if days <= 180:
        return "C"
    return "D"


def test_boundaries_exactly():
    assert grade_of("target", 30).grade == "A"
    assert grade_of("target", 31).grade == "B"
    assert grade_of("target", 90).grade == "B"
    assert grade_of("target", 91).grade == "C"
    assert grade_of("target", 180).grade == "C"
    assert grade_of("target", 181).grade == "D"
    assert grade_of("target", 0).grade == "A"
    assert grade_of("target", -5).grade == "A"  # the deal is due now


def test_no_need_latent_missing():
    assert grade_of("none", 10).grade == "E"
    assert grade_of("latent", 10).grade == "D"
    assert grade_of("target", None).grade == "D"
    assert grade_of("target", None).reason == "no_date"
    assert grade_of(None, None).grade == "D"
    assert grade_of(None, 20).grade == "A"  # a date alone says there is a need


def test_override_wins():
    g = grade_of("none", None, override="A")
    assert g.grade == "A" and g.grade_auto == "E" and g.reason == "override"


def test_latest_followup_sets_demand_and_close():
    fus = [
        {"customer_id": "C1", "date": "2026-10-01", "demand": "latent"},
        {"customer_id": "C1", "date": "2026-11-01", "demand": "target",
         "expected_close": pd.Timestamp(TODAY) + pd.Timedelta(days=60)},
        {"customer_id": "C1", "date": "2026-11-10", "summary": "no demand change"},
    ]
    g = grade_of("none", None, followups=fus)
    assert g.grade == "B" and g.demand == "target"


def test_followup_older_than_card_does_not_override():
    fus = [{"customer_id": "C1", "date": "2024-06-01", "demand": "none"}]
    assert grade_of("target", 10, followups=fus).grade == "A"


@given(demand=st.sampled_from(["target", "latent", "none", None]),
       days=st.one_of(st.none(), st.integers(-400, 800)),
       override=st.one_of(st.none(), st.sampled_from(list("ABCDE"))))
def test_grade_property(demand, days, override):
    g = grade_of(demand, days, override)
    if override:
        assert g.grade == override
    elif demand is None:
        assert g.grade == (expected_grade("target", days) if days is not None else "D")
    else:
        assert g.grade == expected_grade(demand, days)


@given(grade=st.sampled_from(list("ABCDE")), ago=st.integers(0, 400))
def test_cadence_arithmetic(grade, ago):
    last = pd.Timestamp(TODAY) - pd.Timedelta(days=ago)
    c = frame("customers", [{"customer_id": "C1", "created": "2020-01-01"}])
    f = frame("followups", [{"customer_id": "C1", "date": last}])
    s = schedule(c, f, pd.Series([grade], index=c.index), S, TODAY).iloc[0]
    assert s.last_contact == last
    assert s.next_follow_up == last + pd.Timedelta(days=S.cadence(grade))
    due = (s.next_follow_up <= pd.Timestamp(TODAY))
    assert due == (ago >= {"A": 1, "B": 7, "C": 15, "D": 30, "E": 365}[grade])


def test_explicit_next_date_and_never_contacted():
    c = frame("customers", [{"customer_id": "C1", "created": "2026-11-01"},
                            {"customer_id": "C2", "created": "2026-11-20"}])
    f = frame("followups", [
        {"customer_id": "C1", "date": "2026-11-10", "next_date": "2026-12-01"},
        {"customer_id": "C1", "date": "2026-12-15", "summary": "planned, not done"},  # future: not a contact
    ])
    s = schedule(c, f, pd.Series(["A", "A"], index=c.index), S, TODAY)
    assert s.next_follow_up.iloc[0] == pd.Timestamp("2026-12-01")
    assert s.last_contact.iloc[0] == pd.Timestamp("2026-11-10")
    # never contacted: one cadence after the card was made (an A lead the next day), not on its creation day
    assert pd.isna(s.last_contact.iloc[1]) and s.next_follow_up.iloc[1] == pd.Timestamp("2026-11-21")


@given(grade=st.sampled_from(list("ABCDE")), age=st.integers(0, 400))
def test_never_contacted_is_due_one_cadence_after_creation(grade, age):
    created = pd.Timestamp(TODAY) - pd.Timedelta(days=age)
    c = frame("customers", [{"customer_id": "C1", "created": created}, {"customer_id": "C2"}])
    s = schedule(c, frame("followups", []), pd.Series([grade, grade], index=c.index), S, TODAY)
    assert s.next_follow_up.iloc[0] == created + pd.Timedelta(days=S.cadence(grade))
    assert s.next_follow_up.iloc[1] == pd.Timestamp(TODAY)  # no created date: due today


def test_due_and_stale_lists_sorted_and_filtered():
    c = frame("customers", [
        {"customer_id": "C1", "company": "甲公司", "owner": "张伟", "created": "2026-01-01"},
        {"customer_id": "C2", "company": "乙公司", "owner": "李娜", "created": "2026-01-01"},
        {"customer_id": "C3", "contact": "王芳", "owner": "张伟", "created": "2026-11-22"},
        {"customer_id": "C4", "company": "丁公司", "owner": "张伟", "created": "2020-01-01"},
    ])
    f = frame("followups", [
        {"customer_id": "C1", "date": "2026-11-01", "summary": "报价", "outcome": "等回复", "next_step": "电话确认报价"},
        {"customer_id": "C2", "date": "2026-11-20"},
        {"customer_id": "C4", "date": "2026-01-01"},
    ])
    grades = pd.Series(["B", "B", "A", "E"], index=c.index)
    comp = pd.concat([pd.DataFrame({"grade": grades}), schedule(c, f, grades, S, TODAY)], axis=1)
    due = due_list(c, comp, TODAY)
    # C3 (A, created yesterday: due today) sits above C1 (B, 15 days overdue); C2 not due; C4 E not due yet
    assert list(due.customer_id) == ["C3", "C1"]
    assert list(due.days_overdue) == [0, 15]
    assert due.customer.iloc[0] == "王芳" and due.last_summary.iloc[1] == "报价"
    assert due.next_step.iloc[1] == "电话确认报价"  # the plan, never the outcome "等回复"
    assert list(due_list(c, comp, TODAY, owner="李娜").customer_id) == []
    assert list(due_list(c, comp, TODAY, grades=("B",)).customer_id) == ["C1"]
    stale = stale_list(c, comp, S, TODAY)
    assert list(stale.customer_id) == []  # C4 is stale but graded E
    comp.loc[3, "grade"] = "D"
    assert list(stale_list(c, comp, S, TODAY).customer_id) == ["C4"]


def test_due_today_never_puts_a_below_e():
    """Grade first, then days overdue: a long-overdue E customer comes after a just-due A one."""
    c = frame("customers", [{"customer_id": f"C{i}", "created": "2020-01-01"} for i in range(5)])
    f = frame("followups", [{"customer_id": "C0", "date": "2024-01-01"},  # E, ~2 years overdue
                            {"customer_id": "C1", "date": "2026-11-22"},  # A, due today
                            {"customer_id": "C2", "date": "2026-10-01"},  # D, 23 days overdue
                            {"customer_id": "C3", "date": "2026-11-01"},  # A, 21 days overdue
                            {"customer_id": "C4", "date": "2026-11-10"}])  # B, 6 days overdue
    grades = pd.Series(["E", "A", "D", "A", "B"], index=c.index)
    comp = pd.concat([pd.DataFrame({"grade": grades}), schedule(c, f, grades, S, TODAY)], axis=1)
    due = due_list(c, comp, TODAY)
    assert list(due.grade) == ["A", "A", "B", "D", "E"]
    assert list(due.customer_id) == ["C3", "C1", "C4", "C2", "C0"]


def test_next_step_is_the_plan_not_the_outcome():
    c = frame("customers", [{"customer_id": "C1", "created": "2020-01-01"},
                            {"customer_id": "C2", "created": "2020-01-01"},
                            {"customer_id": "C3", "created": "2020-01-01"}])
    f = frame("followups", [
        {"customer_id": "C1", "date": "2026-11-01", "outcome": "已报价", "next_step": "寄样品"},
        {"customer_id": "C2", "date": "2026-11-01", "outcome": "已报价"},  # no next step typed …
        {"customer_id": "C2", "date": "2026-12-05", "summary": "上门演示"},  # … but a planned follow-up
        {"customer_id": "C2", "date": "2026-12-20", "summary": "签约"},
        {"customer_id": "C3", "date": "2026-11-01", "outcome": "客户暂无需求"},  # neither: left blank
    ])
    grades = pd.Series(["A", "A", "A"], index=c.index)
    s = schedule(c, f, grades, S, TODAY)
    assert s.next_step.iloc[0] == "寄样品" and s.next_step.iloc[1] == "上门演示" and pd.isna(s.next_step.iloc[2])


def test_no_followups_at_all():
    c = frame("customers", [{"customer_id": "C1", "demand": "target", "expected_close": "2026-12-01",
                             "created": "2026-11-01"}])
    f = frame("followups", [])
    g = grade_customers(c, f, S, TODAY)
    assert g.grade.iloc[0] == "A"
    s = schedule(c, f, g["grade"], S, TODAY)
    assert pd.isna(s.last_contact.iloc[0]) and s.next_follow_up.iloc[0] == pd.Timestamp("2026-11-02")
