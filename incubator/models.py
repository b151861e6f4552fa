"""Every domain's models, imported in one place for Alembic and the tests."""

from incubator.accounts.models import ApiToken, User
from incubator.booking.models import (
    Booking,
    Certification,
    Closure,
    Lab,
    OpeningHours,
    Resource,
    ResourceShare,
    Training,
    WaitlistEntry,
)
from incubator.cohorts.models import (
    CheckIn,
    CheckInRevision,
    Cohort,
    CohortFunder,
    CohortLabCredit,
    Enrolment,
    KpiDefinition,
    Milestone,
    MilestoneTemplate,
    Programme,
    ReminderLog,
    Startup,
    StartupFounder,
)
from incubator.core.db import Base
from incubator.core.feeds import FeedToken
from incubator.intake.models import (
    Application,
    ApplicationFile,
    Call,
    Criterion,
    FormVersion,
    LetterTemplate,
    PendingFounder,
    Review,
    Transition,
)
from incubator.ledger.models import LedgerEntry, Payment
from incubator.mentoring.models import (
    ActionItem,
    AvailabilityWindow,
    Match,
    MatchRun,
    MentorConflict,
    MentoringNeeds,
    MentorProfile,
    MentorSession,
)
from incubator.orgs.models import Invitation, Membership, Organisation
from incubator.payments.models import PaymentAccount, WebhookEvent
from incubator.reporting.models import ReportBranding, ReportExport, ReportTarget
from incubator.webhooks.models import DeliveryAttempt, OutboxEvent, WebhookDelivery, WebhookSubscription

__all__ = [
    "Application", "ApplicationFile", "Call", "Criterion", "FormVersion", "LetterTemplate", "PendingFounder", "Review",
    "Transition",
    "Booking", "Certification", "Closure", "FeedToken", "Lab", "OpeningHours", "Resource", "Training",
    "ResourceShare", "WaitlistEntry",
    "LedgerEntry", "Payment", "PaymentAccount", "WebhookEvent",
    "ActionItem", "AvailabilityWindow", "Match", "MatchRun", "MentorConflict", "MentoringNeeds", "MentorProfile",
    "MentorSession",
    "ApiToken", "Base", "CheckIn", "CheckInRevision", "Cohort", "CohortFunder", "CohortLabCredit", "Enrolment",
    "Invitation", "KpiDefinition", "Membership", "Milestone", "MilestoneTemplate", "Organisation", "Programme",
    "ReminderLog", "Startup", "StartupFounder", "User",
    "ReportBranding", "ReportExport", "ReportTarget",
    "DeliveryAttempt", "OutboxEvent", "WebhookDelivery", "WebhookSubscription",
]
