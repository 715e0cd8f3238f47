"""The scheduler's policies, one module each."""

from memos.scheduler.policies.archive import ArchivePolicy
from memos.scheduler.policies.base import Policy, move_items
from memos.scheduler.policies.evict import EvictPolicy
from memos.scheduler.policies.expire import ExpirePolicy
from memos.scheduler.policies.merge import MergePolicy
from memos.scheduler.policies.promote_activation import PromoteActivationPolicy
from memos.scheduler.policies.promote_parametric import PromoteParametricPolicy


def default_policies() -> list[Policy]:
    """Every built-in policy, in the order a tick plans them."""
    return [ExpirePolicy(), ArchivePolicy(), MergePolicy(), PromoteActivationPolicy(),
            PromoteParametricPolicy(), EvictPolicy()]


__all__ = ["ArchivePolicy", "EvictPolicy", "ExpirePolicy", "MergePolicy", "Policy",
           "PromoteActivationPolicy", "PromoteParametricPolicy", "default_policies",
           "move_items"]
