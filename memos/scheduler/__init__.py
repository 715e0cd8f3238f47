"""The memory scheduler: policies that move memories, run as persisted, resumable jobs."""

from memos.scheduler.jobs import Job, JobState, JobStore
from memos.scheduler.memories import Memories
from memos.scheduler.policies import Policy, default_policies
from memos.scheduler.scheduler import Scheduler
from memos.scheduler.settings import PolicySettings, SchedulerConfig
from memos.scheduler.workers import JobContext

__all__ = ["Job", "JobContext", "JobState", "JobStore", "Memories", "Policy", "PolicySettings",
           "Scheduler", "SchedulerConfig", "default_policies"]
