"""The domain's tables; importing this package registers every model with the metadata."""

from app.models.org import Department, Skill, Team, User, UserRole, UserSkill, user_department
from app.models.security import LoginEvent

__all__ = ["Department", "LoginEvent", "Skill", "Team", "User", "UserRole", "UserSkill", "user_department"]
