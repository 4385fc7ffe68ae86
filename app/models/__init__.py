"""The domain's tables; importing this package registers every model with the metadata."""

from app.models.assessment import AssessmentMark
from app.models.audit import AuditEntry, AuditHead
from app.models.chats import CannedReply, ChatMessage
from app.models.contacts import AgentPresence, AgentStateLog, CallQuality, CallQueue, Contact, ContactEvent, IvrNode
from app.models.knowledge import (
    KbAnswerUse,
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbSynonym,
    KbTerm,
    PolicyChange,
    PolicyChangeArticle,
)
from app.models.org import Department, Skill, Team, User, UserRole, UserSkill, user_department
from app.models.people import Person, PersonAccess, PersonChange, PersonImport, PersonPhone
from app.models.quality import AgentComplaint, ExamResult, QaSample, RecordReview, TestCall, TestQuestion
from app.models.reports import ReportFile
from app.models.security import IntegrationToken, LoginEvent
from app.models.tickets import Attachment, SlaEvent, Ticket, TicketNote, TicketReference, TicketSequence
from app.models.workflow import DeliveredMessage, OpenTask, ProcessDraft, ProcessInstance, ProcessVersion
from app.models.workforce import Broadcast, Shift

__all__ = [
    "AgentComplaint", "AssessmentMark", "ExamResult", "RecordReview", "TestCall", "TestQuestion",
    "AgentPresence", "AgentStateLog", "CallQuality", "CallQueue", "CannedReply", "ChatMessage", "Contact", "ContactEvent",
    "IvrNode",
    "KbAnswerUse", "KbArticle", "KbArticleVersion", "KbCategory", "KbSynonym", "KbTerm", "PolicyChange",
    "PolicyChangeArticle", "IntegrationToken",
    "Attachment", "AuditEntry", "AuditHead", "Broadcast", "DeliveredMessage", "Department", "LoginEvent", "OpenTask",
    "Person", "PersonAccess", "PersonChange", "PersonImport", "PersonPhone",
    "ProcessDraft", "ProcessInstance", "ProcessVersion",
    "QaSample", "ReportFile", "Shift", "Skill", "SlaEvent", "Team", "Ticket", "TicketNote",
    "TicketReference", "TicketSequence", "User", "user_department", "UserRole", "UserSkill",
]
