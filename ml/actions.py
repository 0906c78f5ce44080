"""Next best action: a documented rule table over churn risk, purchase propensity, plan and
marketing consent. The first matching rule wins; the table is data so it can be reviewed
(docs/models.md) and changed without touching the scoring code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ActionRule:
    action: str
    churn_bands: frozenset[str] | None = None  # None = any (including not scored)
    propensity_bands: frozenset[str] | None = None
    plans: frozenset[str] | None = None
    needs_consent: bool | None = None  # True: only with consent; False: only without
    why: str = ""


def _bands(*names: str) -> frozenset[str]:
    return frozenset(names)


ACTION_RULES: tuple[ActionRule, ...] = (
    ActionRule(
        "customer_success_outreach",
        churn_bands=_bands("high"),
        why="A paying customer likely to cancel: a person calls, whatever the consent.",
    ),
    ActionRule(
        "retention_offer_email",
        churn_bands=_bands("medium"),
        needs_consent=True,
        why="Moderate risk and consent to marketing: a retention email or offer.",
    ),
    ActionRule(
        "in_app_health_check",
        churn_bands=_bands("medium"),
        needs_consent=False,
        why="Moderate risk without marketing consent: an in-product nudge only.",
    ),
    ActionRule(
        "upsell_review",
        churn_bands=_bands("low"),
        plans=frozenset({"starter", "pro"}),
        needs_consent=True,
        why="Healthy customer on a smaller plan with consent: candidate for an upgrade talk.",
    ),
    ActionRule(
        "sales_follow_up",
        propensity_bands=_bands("high"),
        why="A lead likely to buy soon: sales follows up (a sales reply is not marketing).",
    ),
    ActionRule(
        "nurture_campaign",
        propensity_bands=_bands("medium"),
        needs_consent=True,
        why="Warm lead with consent: add to the nurture email track.",
    ),
    ActionRule(
        "no_marketing_contact",
        needs_consent=False,
        why="No marketing consent: no marketing contact.",
    ),
    ActionRule("no_action", why="Nothing to do today."),
)


def _matches(rule: ActionRule, churn: str, propensity: str, plan: str, consent: bool) -> bool:
    return (
        (rule.churn_bands is None or churn in rule.churn_bands)
        and (rule.propensity_bands is None or propensity in rule.propensity_bands)
        and (rule.plans is None or plan in rule.plans)
        and (rule.needs_consent is None or rule.needs_consent == consent)
    )


def next_best_action(
    churn_band: str | None,
    propensity_band: str | None,
    plan: str | None,
    marketing_consent: bool | None,
    rules: tuple[ActionRule, ...] = ACTION_RULES,
) -> str:
    """The action of the first rule that matches; unknown consent counts as no consent."""
    churn, propensity = churn_band or "", propensity_band or ""
    consent = bool(marketing_consent) if marketing_consent is not None else False
    for rule in rules:
        if _matches(rule, churn, propensity, plan or "", consent):
            return rule.action
    return "no_action"


def next_best_actions(frame: pd.DataFrame) -> pd.Series:
    """Vectorised over a frame with churn_risk_band, propensity_band, plan, marketing_consent."""
    consent = frame["marketing_consent"].astype("boolean").fillna(False)
    return pd.Series(
        [
            next_best_action(c, p, plan, bool(m))
            for c, p, plan, m in zip(
                frame["churn_risk_band"].where(frame["churn_risk_band"].notna(), None),
                frame["propensity_band"].where(frame["propensity_band"].notna(), None),
                frame["plan"].where(frame["plan"].notna(), None),
                consent,
                strict=True,
            )
        ],
        index=frame.index,
        dtype=object,
    )


# Holdouts (docs/models.md "Holdouts and uplift"): a share of the customers each action is for
# do not get it, so the action's effect can be measured against them. The two non-actions
# have nothing to withhold (and "no contact" must stay no contact), so they never hold out.
NON_ACTIONS = frozenset({"no_action", "no_marketing_contact"})
HOLDOUT_ACTION = "holdout"
DEFAULT_HOLDOUT_SHARE = 0.10
HOLDOUT_BUCKETS = 10_000


def holdout_share(value: str | None) -> float:
    """The holdout share from its setting's text (JOURNEY_HOLDOUT_SHARE); unset: 10 %, 0 off."""
    if value is None or not value.strip():
        return DEFAULT_HOLDOUT_SHARE
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 <= share < 1.0:
        raise ValueError(
            f"JOURNEY_HOLDOUT_SHARE={value!r}: expected a share in [0, 1), e.g. 0.1 for 10 %"
        )
    return share


def holdout_bucket(customer_id: str, action: str) -> int:
    """0..9,999 from sha256(customer_id:action): stable across runs, processes and machines
    (Python's hash() is salted per process), and independent between actions, so a customer
    held out of one action is not held out of every action."""
    digest = hashlib.sha256(f"{customer_id}:{action}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_BUCKETS


def is_holdout(customer_id: str, action: str, share: float) -> bool:
    """Whether this customer is withheld from this action (never for a non-action)."""
    if action in NON_ACTIONS or share <= 0:
        return False
    return holdout_bucket(customer_id, action) < round(share * HOLDOUT_BUCKETS)


def apply_holdouts(customer_ids: pd.Series, actions: pd.Series, share: float) -> pd.DataFrame:
    """`next_best_action` ('holdout' for held-out customers), `intended_action` (the action
    the rules chose, for everyone) and `is_holdout`, on the index of `actions`."""
    held = pd.Series(
        [
            isinstance(a, str) and is_holdout(str(c), a, share)
            for c, a in zip(customer_ids, actions, strict=True)
        ],
        index=actions.index,
        dtype=bool,
    )
    return pd.DataFrame(
        {
            "next_best_action": actions.where(~held, HOLDOUT_ACTION),
            "intended_action": actions,
            "is_holdout": held,
        },
        index=actions.index,
    )
