"""The domain's tables; importing this package registers every model with the metadata."""

from app.models.audit import AuditEntry, AuditHead
from app.models.org import Department, Skill, Team, User, UserRole, UserSkill, user_department
from app.models.security import LoginEvent
from app.models.tickets import Attachment, SlaEvent, Ticket, TicketNote, TicketSequence
from app.models.workflow import DeliveredMessage, OpenTask, ProcessDraft, ProcessInstance, ProcessVersion

__all__ = [
    "Attachment", "AuditEntry", "AuditHead", "DeliveredMessage", "Department", "LoginEvent", "OpenTask",
    "ProcessDraft", "ProcessInstance", "ProcessVersion", "Skill", "SlaEvent", "Team", "Ticket", "TicketNote",
    "TicketSequence", "User", "user_department", "UserRole", "UserSkill",
]
