"""The ticket closed loop (工单闭环) run by the BPMN engine, step by step, as the hotline works it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, DeliveredMessage, ProcessInstance, Ticket
from tests.loop import COMPLAINT, audit_actions, do, handled_round, staff, task_names, tasks
from workflows import engine
from workflows.audit_trail import Actor, verify


def test_a_question_answered_on_the_spot_is_archived_after_a_satisfied_callback(app):
    """The agent answers at once; the callback finds the citizen satisfied; the ticket is archived."""
    s = staff()
    ticket = engine.start_ticket({**COMPLAINT, "category": "consultation", "answered_on_spot": True,
                                  "reply": "异地就医备案可在国家医保服务平台办理。"}, s.agent)
    assert ticket.number.endswith("-0001") and ticket.status == "callback"
    assert ticket.first_handled_at is not None
    assert [(t.task_name, t.role, t.assignee_id) for t in tasks(ticket)] == [("callback", "agent", None)]
    ticket = do(ticket, "callback", {"satisfaction": "satisfied", "callback_note": "市民表示满意"}, s.agent)
    assert ticket.status == "archived" and ticket.archived_at is not None and ticket.satisfaction == "satisfied"
    assert tasks(ticket) == []
    assert db.session.scalar(select(ProcessInstance.status)) == "completed"


def test_a_complaint_goes_round_the_whole_loop_and_each_step_lands_in_the_right_inbox(app):
    """Intake → dispatch → department accepts and returns → agent accepts the return and replies →
    callback satisfied → archived; each open task has the role, department and owner it should."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    assert [(t.task_name, t.role, t.assignee_id) for t in tasks(ticket)] == [("dispatch", "agent", s.agent.user_id)]

    ticket = do(ticket, "dispatch", {"department_id": s.dept_id, "instructions": "请核查"}, s.agent)
    [accept] = tasks(ticket)
    assert (accept.task_name, accept.role, accept.department_id, accept.assignee_id) == \
        ("department_accept", "dept_handler", s.dept_id, None)
    assert ticket.status == "department" and ticket.department_id == s.dept_id and ticket.first_handled_at

    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    assert task_names(ticket) == ["department_handle"]
    ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已核实，款项已补发"}, s.handler)
    assert ticket.status == "reviewing" and task_names(ticket) == ["return_review"]
    ticket = do(ticket, "return_review", {"review_decision": "accept"}, s.agent)
    ticket = do(ticket, "reply", {"reply": "您的报销款已补发，请查收。"}, s.agent)
    assert ticket.status == "callback" and ticket.reply == "您的报销款已补发，请查收。"
    ticket = do(ticket, "callback", {"satisfaction": "basically_satisfied"}, s.agent)
    assert ticket.status == "archived"

    assert audit_actions(ticket) == [
        ("ticket.intake", "intake"), ("task.complete", "dispatch"), ("task.complete", "department_accept"),
        ("task.complete", "department_handle"), ("task.complete", "return_review"), ("task.complete", "reply"),
        ("task.complete", "callback"),
    ]
    first = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).first()
    assert (first.username, first.role, first.ip) == ("agent1", "agent", "10.0.0.8")
    assert verify().ok


def test_a_department_sends_the_ticket_back_and_it_is_dispatched_elsewhere(app):
    """退单: the wrong department sends it back with a reason; the agent dispatches it to the right one,
    whose handler now sees it while the first department no longer does."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.other_dept_id}, s.agent)
    with pytest.raises(engine.StepRefused) as refused:
        do(ticket, "department_accept", {"accept_decision": "send_back"}, s.other_handler)
    assert refused.value.errors == {"send_back_reason": "退单理由为必填项"}
    ticket = do(ticket, "department_accept", {"accept_decision": "send_back", "send_back_reason": "不属于本局职责"},
                s.other_handler)
    assert ticket.status == "dispatching" and task_names(ticket) == ["dispatch"]
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    [accept] = tasks(ticket)
    assert accept.department_id == s.dept_id and ticket.department_id == s.dept_id


def test_the_agent_sends_a_poor_return_back_for_rework(app):
    """发回重办: the return lacks substance; the department must handle it again."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "已处理"}, s.handler)
    ticket = do(ticket, "return_review", {"review_decision": "rework", "review_comment": "未说明到账时间"}, s.agent)
    assert ticket.status == "department" and task_names(ticket) == ["department_handle"]
    ticket = do(ticket, "department_handle", {"handle_action": "return", "result": "款项将于3个工作日内到账"}, s.handler)
    assert task_names(ticket) == ["return_review"]


@pytest.mark.parametrize("approved", [True, False])
def test_an_extension_moves_the_deadline_only_when_the_team_lead_approves(app, approved):
    """延期: the department asks for 3 more working days; the deadline moves only on approval."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    original = ticket.handle_due_at
    ticket = do(ticket, "department_handle", {"handle_action": "extension", "extension_days": 3,
                                              "extension_reason": "需调取医院结算单"}, s.handler)
    assert ticket.status == "extension" and [(t.task_name, t.role) for t in tasks(ticket)] == \
        [("extension_review", "team_lead")]
    ticket = do(ticket, "extension_review", {"extension_approved": approved, "extension_comment": "同意"}, s.lead)
    assert task_names(ticket) == ["department_handle"]
    if approved:
        assert ticket.handle_due_at > original
        assert tasks(ticket)[0].due_at == ticket.handle_due_at
    else:
        assert ticket.handle_due_at == original


def test_a_dissatisfied_citizen_gets_a_new_round_and_the_third_goes_to_the_team_lead(app):
    """重复派单 and 提级督办: each dissatisfied callback re-dispatches; the third re-dispatch first
    goes to the team lead for supervision."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    for round_no in (1, 2):
        ticket = handled_round(ticket, s)
        ticket = do(ticket, "callback", {"satisfaction": "dissatisfied"}, s.agent)
        assert ticket.redispatch_count == round_no and task_names(ticket) == ["dispatch"]
    ticket = handled_round(ticket, s)
    ticket = do(ticket, "callback", {"satisfaction": "dissatisfied"}, s.agent)
    assert ticket.redispatch_count == 3 and ticket.status == "escalated"
    assert [(t.task_name, t.role) for t in tasks(ticket)] == [("escalation", "team_lead")]
    ticket = do(ticket, "escalation", {"supervision_note": "请分管领导督办"}, s.lead)
    assert task_names(ticket) == ["dispatch"]
    ticket = handled_round(ticket, s)
    ticket = do(ticket, "callback", {"satisfaction": "satisfied"}, s.agent)
    assert ticket.status == "archived"


def test_three_unanswered_callbacks_close_the_ticket(app):
    """回访 three times without reaching the citizen: the ticket is archived as unreachable."""
    s = staff()
    ticket = engine.start_ticket({**COMPLAINT, "answered_on_spot": True, "reply": "已当场解答"}, s.agent)
    for _ in range(2):
        ticket = do(ticket, "callback", {"satisfaction": "unreachable"}, s.agent)
        assert task_names(ticket) == ["callback"]
    ticket = do(ticket, "callback", {"satisfaction": "unreachable"}, s.agent)
    assert ticket.status == "archived" and ticket.satisfaction == "unreachable"


def test_the_post_call_survey_arrives_as_a_message_and_twice_changes_nothing(app):
    """The IVR survey's answer reaches the waiting callback as a BPMN message; the same message
    delivered again (a retried webhook) is recognised and changes nothing."""
    s = staff()
    ticket = engine.start_ticket({**COMPLAINT, "answered_on_spot": True, "reply": "已当场解答"}, s.agent)
    ivr = Actor.system("ivr")
    payload = {"satisfaction": "very_satisfied", "source": "ivr"}
    assert engine.deliver_message(ticket.id, "satisfaction_received", payload, "call-77", ivr) == "delivered"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "archived" and ticket.satisfaction == "very_satisfied"
    entries = db.session.scalar(select(func.count(AuditEntry.seq)))
    assert engine.deliver_message(ticket.id, "satisfaction_received", payload, "call-77", ivr) == "duplicate"
    assert db.session.scalar(select(func.count(AuditEntry.seq))) == entries
    assert db.session.scalar(select(func.count(DeliveredMessage.id))) == 1


def test_a_survey_answer_while_the_department_works_is_kept_but_does_not_move_the_ticket(app):
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    outcome = engine.deliver_message(ticket.id, "satisfaction_received", {"satisfaction": "satisfied"}, "call-1",
                                     Actor.system("ivr"))
    assert outcome == "not_waiting"
    assert task_names(ticket) == ["department_accept"]
    assert db.session.scalar(select(DeliveredMessage.outcome)) == "not_waiting"


def test_bad_form_data_is_refused_in_chinese_and_nothing_changes(app):
    s = staff()
    with pytest.raises(engine.StepRefused) as refused:
        engine.start_ticket({**COMPLAINT, "subject": "", "category": "gossip"}, s.agent)
    assert refused.value.errors == {"category": "诉求类别的取值无效", "subject": "标题至少 2 个字"}
    assert db.session.scalar(select(func.count(Ticket.id))) == 0

    ticket = engine.start_ticket(COMPLAINT, s.agent)
    with pytest.raises(engine.StepRefused) as injected:
        do(ticket, "dispatch", {"department_id": s.dept_id, "redispatch_count": 99}, s.agent)
    assert injected.value.errors == {"redispatch_count": "表单未定义此字段"}
    with pytest.raises(engine.StepRefused) as unknown_dept:
        do(ticket, "dispatch", {"department_id": 9999}, s.agent)
    assert unknown_dept.value.errors == {"department_id": "承办部门不存在或已停用"}
    assert task_names(ticket) == ["dispatch"]
    assert audit_actions(ticket) == [("ticket.intake", "intake")]


def test_only_the_lane_role_and_the_right_department_may_complete_a_task(app):
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    with pytest.raises(engine.StepRefused, match="角色不能办理"):
        do(ticket, "department_accept", {"accept_decision": "accept"}, s.agent)
    with pytest.raises(engine.StepRefused, match="不属于您所在的部门"):
        do(ticket, "department_accept", {"accept_decision": "accept"}, s.other_handler, user=s.other_handler_user)
    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler, user=s.handler_user)
    assert task_names(ticket) == ["department_handle"]


def test_a_withdrawn_ticket_leaves_every_inbox(app):
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    engine.cancel_ticket(ticket.id, "重复来电，已合并到前一工单", s.agent)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "cancelled" and tasks(ticket) == []
    with pytest.raises(engine.StepRefused, match="已办结或已撤销"):
        engine.cancel_ticket(ticket.id, "再次撤销", s.agent)


def test_a_ticket_redispatched_fifty_times_still_runs_and_its_state_stays_small(app):
    """Deep tickets: 50 dissatisfied rounds (the engine's task tree would stop at depth 1000 if each
    round stayed in it); finished rounds are pruned so the state stays small."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    sizes = []
    for round_no in range(1, 51):
        ticket = handled_round(ticket, s)
        ticket = do(ticket, "callback", {"satisfaction": "dissatisfied"}, s.agent)
        if round_no >= 3:
            ticket = do(ticket, "escalation", {"supervision_note": f"第{round_no}次督办"}, s.lead)
        sizes.append(len(db.session.scalar(select(ProcessInstance.state))))
    assert ticket.redispatch_count == 50 and task_names(ticket) == ["dispatch"]
    ticket = handled_round(ticket, s)
    ticket = do(ticket, "callback", {"satisfaction": "satisfied"}, s.agent)
    assert ticket.status == "archived"
    assert sizes[-1] < 60_000, sizes[-1]  # compressed bytes after 50 rounds
    assert verify().ok


def test_an_intake_that_does_not_say_answered_on_the_spot_goes_to_dispatch(app):
    s = staff()
    data = {k: v for k, v in COMPLAINT.items() if k != "answered_on_spot"}
    ticket = engine.start_ticket(data, s.agent)
    assert task_names(ticket) == ["dispatch"]


def test_an_empty_handling_form_asks_only_for_the_choice(app):
    """A conditional rule must not fire for a choice not made: an empty submission asks for
    办理操作 alone, not for the extension's fields too."""
    s = staff()
    ticket = engine.start_ticket(COMPLAINT, s.agent)
    ticket = do(ticket, "dispatch", {"department_id": s.dept_id}, s.agent)
    ticket = do(ticket, "department_accept", {"accept_decision": "accept"}, s.handler)
    with pytest.raises(engine.StepRefused) as refused:
        do(ticket, "department_handle", {}, s.handler)
    assert refused.value.errors == {"handle_action": "办理操作为必填项"}
