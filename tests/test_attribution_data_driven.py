"""The data-driven attribution models (Markov removal effect, Shapley) against independent
implementations written here: journeys rebuilt in pandas from the touches, the Markov chain's
absorption probabilities from the fundamental matrix (numpy), Shapley values by enumerating
subsets with itertools. The warehouse is tests/test_dbt_marts.py's (300 people, 50 days,
every model built, the attribution tests run).
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest

from tests.test_dbt_marts import Warehouse, warehouse  # noqa: F401  (the module-scoped build)

LOOKBACK_DAYS = 30  # dbt_project.yml's attribution_lookback_days
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
Journey = tuple[tuple[str, ...], bool]  # (collapsed channel sequence, converted)


def _collapse(channels: list[str]) -> tuple[str, ...]:
    return tuple(c for i, c in enumerate(channels) if i == 0 or channels[i - 1] != c)


def journeys_from_touches(wh: Warehouse) -> dict[tuple[str, bool], Journey]:
    """The journeys as docs/marts.md defines them, built without int_attribution_journeys."""
    touches = wh.frame(
        "select conversion_id, channel from intermediate.int_attribution_touches "
        "order by conversion_id, touch_position"
    )
    journeys = {
        (conversion, True): (_collapse(list(group["channel"])), True)
        for conversion, group in touches.groupby("conversion_id")
    }
    others = wh.frame(
        """
        select t.customer_id, t.touchpoint_id, t.touched_at,
            coalesce(t.channel, 'direct') as channel
        from intermediate.int_touchpoints as t
        inner join intermediate.int_funnel_known_customers using (customer_id)
        where t.touch_type in ('web_session', 'email_open', 'email_click')
            and t.customer_id not in (
                select customer_id from intermediate.int_attribution_conversions
            )
        """
    ).sort_values(["customer_id", "touched_at", "touchpoint_id"])
    for customer, group in others.groupby("customer_id"):
        since = group["touched_at"].max() - pd.Timedelta(days=LOOKBACK_DAYS)
        recent = group[group["touched_at"] >= since]
        journeys[(customer, False)] = (_collapse(list(recent["channel"])), False)
    return journeys


def absorption_probability(journeys: list[Journey], removed: str | None = None) -> float:
    """P(start → conversion) of the first-order chain fitted on the journeys, with `removed`'s
    inbound transitions sent to null: B = (I - Q)^-1 R over the transient states."""
    counts: dict[str, dict[str, int]] = {}
    for channels, converted in journeys:
        states = [START, *channels, CONVERSION if converted else NULL]
        for a, b in zip(states, states[1:], strict=False):
            counts.setdefault(a, {}).setdefault(b, 0)
            counts[a][b] += 1
    transient = [s for s in counts if s != removed]
    index = {s: i for i, s in enumerate(transient)}
    q = np.zeros((len(transient), len(transient)))
    r = np.zeros(len(transient))  # one absorbing column: conversion
    for a in transient:
        total = sum(counts[a].values())
        for b, n in counts[a].items():
            if b == CONVERSION:
                r[index[a]] += n / total
            elif b != NULL and b != removed:
                q[index[a], index[b]] += n / total
    absorbed = np.linalg.solve(np.eye(len(transient)) - q, r)
    return float(absorbed[index[START]])


def shapley_values(channels: frozenset[str], value: dict[frozenset[str], float]) -> dict:
    """phi_c = sum over T in S - {c} of |T|! (|S| - |T| - 1)! / |S|! (v(T + c) - v(T))."""
    k = len(channels)
    phi = {}
    for c in channels:
        others = channels - {c}
        phi[c] = sum(
            factorial(len(t))
            * factorial(k - len(t) - 1)
            / factorial(k)
            * (value.get(frozenset(t) | {c}, 0.0) - value.get(frozenset(t), 0.0))
            for size in range(k)
            for t in combinations(sorted(others), size)
        )
    return phi


@pytest.fixture(scope="module")
def journeys(warehouse: Warehouse) -> dict[tuple[str, bool], Journey]:  # noqa: F811
    return journeys_from_touches(warehouse)


def test_journeys_model_matches_the_definition(
    warehouse: Warehouse,  # noqa: F811
    journeys: dict[tuple[str, bool], Journey],
) -> None:
    built = warehouse.frame(
        "select journey_id, is_converting, channel from intermediate.int_attribution_journeys "
        "order by journey_id, is_converting, step_number"
    )
    from_sql = {
        (journey_id, converting): (tuple(group["channel"]), converting)
        for (journey_id, converting), group in built.groupby(["journey_id", "is_converting"])
    }
    assert from_sql == journeys
    assert sum(converted for _, converted in journeys.values()) > 20
    assert sum(not converted for _, converted in journeys.values()) > 50


def test_removal_effects_match_the_fundamental_matrix(
    warehouse: Warehouse,  # noqa: F811
    journeys: dict[tuple[str, bool], Journey],
) -> None:
    paths = list(journeys.values())
    full = absorption_probability(paths)
    # A chain fitted on path counts reproduces the observed conversion rate.
    assert full == pytest.approx(sum(c for _, c in paths) / len(paths), abs=1e-12)
    effects = warehouse.frame("select * from intermediate.int_attribution_removal_effects")
    expected = {
        channel: 1 - absorption_probability(paths, removed=channel) / full
        for channel in {c for channels, _ in paths for c in channels}
    }
    got = dict(zip(effects["channel"], effects["removal_effect"], strict=True))
    assert got.keys() == expected.keys() and len(got) >= 5
    for channel, effect in expected.items():
        assert got[channel] == pytest.approx(effect, abs=1e-9), channel
    assert effects["conversion_probability"].sub(full).abs().max() < 1e-9
    assert effects["unabsorbed_probability"].abs().max() < 1e-9

    # The mart answers "what is the removal effect of email?" with the same numbers.
    mart = warehouse.frame("select * from marts.agg_channel_removal_effects")
    assert dict(zip(mart["channel"], mart["removal_effect"], strict=True)) == got
    assert mart["removal_effect_share"].sum() == pytest.approx(1)
    assert mart["markov_share"].sum() == pytest.approx(1)
    assert mart["shapley_share"].sum() == pytest.approx(1)


def test_shapley_values_match_subset_enumeration(
    warehouse: Warehouse,  # noqa: F811
    journeys: dict[tuple[str, bool], Journey],
) -> None:
    sets = pd.DataFrame(
        [(frozenset(channels), converted) for channels, converted in journeys.values()],
        columns=["channels", "converted"],
    )
    value = sets.groupby("channels")["converted"].mean().to_dict()
    built = warehouse.frame("select * from intermediate.int_attribution_shapley_values")
    built["channels"] = built["channel_set"].str.split(" + ", regex=False).map(frozenset)
    converting_sets = set(sets.loc[sets["converted"], "channels"])
    assert set(built["channels"]) == converting_sets
    assert any(len(s) >= 3 for s in converting_sets)
    for channels, rows in built.groupby("channels"):
        phi = shapley_values(channels, value)
        assert sum(phi.values()) == pytest.approx(value[channels], abs=1e-12)  # efficiency
        positive = {c: max(v, 0.0) if v > 1e-12 else 0.0 for c, v in phi.items()}
        total = sum(positive.values())
        for row in rows.itertuples():
            assert row.shapley_value == pytest.approx(phi[row.channel], abs=1e-12)
            assert row.shapley_share == pytest.approx(positive[row.channel] / total, abs=1e-12)


def test_per_conversion_credits_follow_the_channel_shares(warehouse: Warehouse) -> None:  # noqa: F811
    credits = warehouse.frame(
        """
        select a.conversion_id, a.attribution_model, a.channel, sum(a.credit) as credit,
            any_value(r.removal_effect) as removal_effect
        from marts.fct_attribution as a
        inner join intermediate.int_attribution_removal_effects as r using (channel)
        where a.attribution_model in ('markov', 'shapley')
        group by 1, 2, 3
        """
    )
    markov = credits[credits["attribution_model"] == "markov"].copy()
    path_total = markov.groupby("conversion_id")["removal_effect"].transform("sum")
    assert (path_total > 0).all()
    assert np.allclose(markov["credit"], markov["removal_effect"] / path_total, atol=1e-12)
    shapley = credits[credits["attribution_model"] == "shapley"]
    assert shapley.groupby("conversion_id")["credit"].sum().sub(1).abs().max() < 1e-9


def test_channelattribution_package_agrees_on_removal_effects(
    warehouse: Warehouse,  # noqa: F811
    journeys: dict[tuple[str, bool], Journey],
) -> None:
    """A third implementation, when the `channelattribution` package is installed. It is not a
    dependency (GPL-3.0, source-only: a C++ build; docs/decisions.md): `pip install
    channelattribution` to run this check."""
    ca = pytest.importorskip("ChannelAttribution")
    paths = (
        pd.DataFrame(
            [(" > ".join(ch), int(c), int(not c)) for ch, c in journeys.values()],
            columns=["path", "total_conversions", "total_null"],
        )
        .groupby("path", as_index=False)
        .sum()
    )
    # It estimates by simulation; its default max_step (the longest observed path) cuts
    # simulated paths short and biases every effect ~4 % low, so allow long walks.
    result = ca.markov_model(
        paths,
        var_path="path",
        var_conv="total_conversions",
        var_null="total_null",
        order=1,
        sep=">",
        out_more=True,
        verbose=False,
        flg_pro=False,
        seed=1,
        max_step=1000,
        nsim_start=1e6,
        conv_par=0.01,
    )
    effects = result["removal_effects"]
    theirs = dict(zip(effects["channel_name"].str.strip(), effects["removal_effect"], strict=True))
    ours = warehouse.frame("select channel, removal_effect from marts.agg_channel_removal_effects")
    assert set(theirs) == set(ours["channel"])
    for row in ours.itertuples():
        assert theirs[row.channel] == pytest.approx(row.removal_effect, abs=0.01), row.channel
