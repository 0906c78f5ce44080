"""Day-by-day simulation of one person's journey, emitting export records into a ChunkSink.

Each person has their own `random.Random` seeded from (seed, person index), so a person's
records do not depend on chunking or on anyone else. The latent quantities that drive
outcomes (purchase intent, product engagement, per-person noise) are never exported; only
their consequences are (page views, demo requests, usage events, tickets, email events).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from orchestration.demo import catalog as cat
from orchestration.demo.sink import ChunkSink, iso_timestamp

ANON, LEAD, CUSTOMER, CHURNED = "anon", "lead", "customer", "churned"
SESSION_GAP = 45 * 60  # true sessions are separated by at least this much inactivity
MAX_EVENT_GAP = 20 * 60  # and events inside a session by at most this much
TRIAL_DAYS = 14
NURTURE_STEPS = (2, 5, 9, 14, 21, 30)
ONBOARDING_STEPS = (1, 3, 7)
SEGMENT_PURCHASE = {"smb": 0.0, "mid_market": 0.1, "enterprise": -0.2}
PLAN_CHURN = {"starter": 0.35, "pro": 0.0, "business": -0.45}
# App sessions per day at engagement 0, averaged over the week (weekends at 35 %).
USAGE_PER_UNIT = 0.6 * (5 + 2 * 0.35) / 7
# Weight of the per-person noise in both hazards: the part of the truth no export records.
# Kept small so that the true probabilities measure what a model of the exports could reach.
HIDDEN_NOISE = 0.3
USAGE_RECENT_DAYS = 14  # "usage now" = app sessions per day over the last 14 days
# Planted friction (docs/demo_data.md, "Planted friction"): for a fixed share of known people
# the signup form reloads 2-4 extra times (3-5 views in the session) and, from then on, their
# daily purchase hazard is multiplied by a known factor. Decided by a separate RNG stream, so
# every draw of the person's own stream (and everyone else's records) stays as it was until
# the first looped page.
FRICTION_SHARE = 0.3
FRICTION_PURCHASE_FACTOR = 0.5
FRICTION_EXTRA_VIEWS = (2, 4)
# Known treatment effect (benchmarks/report_uplift.py; docs/models.md "Holdouts and uplift"):
# from its day on, a treatment multiplies a treated customer's daily churn hazard or a treated
# lead's purchase hazard by a known factor. No random number is drawn for it, so untreated
# people's records, and a treated person's days before the treatment, stay exactly as they were.
CHURN_HAZARD, PURCHASE_HAZARD = "churn", "purchase"
TREATMENT_FACTORS = {CHURN_HAZARD: 0.6, PURCHASE_HAZARD: 1.5}


@dataclass(frozen=True)
class Treatment:
    day: int  # first day index the hazard is changed on
    hazard: str  # CHURN_HAZARD or PURCHASE_HAZARD
    factor: float


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def weighted(rng: random.Random, pairs: tuple) -> str:
    """Pick the first element of a (value, weight) pair."""
    r = rng.random() * sum(w for _, w in pairs)
    for value, w in pairs:
        r -= w
        if r <= 0:
            return value
    return pairs[-1][0]


def poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def bijection(i: int, mult: int, add: int) -> int:
    """A fixed permutation of 0..999999 so ids in different systems don't share numbers."""
    return (i * mult + add) % 1_000_000


@dataclass(frozen=True)
class Context:
    seed: int
    start_ts: int
    days: int
    as_of_days: frozenset[int]
    dates: tuple[str, ...]
    treatments: Mapping[str, Treatment] = field(default_factory=dict)  # by person_id


@dataclass
class Device:
    anonymous_id: str
    user_agent: str
    identified: bool = False
    last_end: int = 0
    last_campaign_source: str | None = None


@dataclass
class Landing:
    channel: str
    referrer: str
    campaign: dict | None
    page: tuple[str, str]


def ticket_tone(rng: random.Random, patience: float) -> str:
    """Written tone of a ticket: mostly negative when patience is low, with noise both ways
    (some who will rate it bad write neutrally, some who will be happy complain)."""
    p_negative = min(0.85, max(0.08, 0.85 - 1.5 * patience))
    p_positive = min(0.45, max(0.05, 0.1 + 0.6 * (patience - 0.3)))
    r = rng.random()
    if r < p_negative:
        return "negative"
    return "positive" if r < p_negative + p_positive else "neutral"


def ticket_text(rng: random.Random, tone: str, subject: str, description: str) -> tuple[str, str]:
    """The topic's text in the given tone: a subject prefix and a closing sentence."""
    prefix = rng.choice(cat.TICKET_TONE_SUBJECT_PREFIXES[tone])
    closing = rng.choice(cat.TICKET_TONE_CLOSINGS[tone])
    return prefix + subject, f"{description} {closing}".strip()


class PersonSim:
    def __init__(
        self, ctx: Context, sink: ChunkSink, index: int, known: bool, friction: bool = True
    ) -> None:
        self.ctx, self.sink, self.index, self.known = ctx, sink, index, known
        kind = "known" if known else "anon"
        rng = self.rng = random.Random(f"{ctx.seed}:{kind}:{index}")
        # Friction decisions draw only from their own stream (see FRICTION_SHARE).
        self.friction_rng = random.Random(f"{ctx.seed}:friction:{index}")
        self.friction_prone = known and friction and self.friction_rng.random() < FRICTION_SHARE
        self.friction_hit = False
        # Ground truth of the planted loops: [person_id, anonymous_id, true_session_id,
        # session_started_at, page_path, friction_type, views, first_view_at].
        self.friction_loops: list[list[str]] = []
        self.person_id = f"P{index + 1:07d}" if known else f"V{index + 1:07d}"
        self.treatment = ctx.treatments.get(self.person_id)
        self.segment = weighted(rng, cat.SEGMENTS)
        self.channel = weighted(rng, cat.CHANNELS)
        offset, countries, _ = weighted(rng, tuple((r, r[2]) for r in cat.REGIONS))
        self.offset, self.country = offset, rng.choice(countries)
        mean = cat.SEGMENT_INTENT[self.segment] + cat.CHANNEL_INTENT[self.channel]
        self.intent = rng.gauss(mean if known else mean - 0.8, 1.0)
        n_devices = (1 if rng.random() < 0.5 else 2 if rng.random() < 0.7 else 3) if known else 1
        self.devices = [self._new_device(i) for i in range(n_devices)]
        last_arrival = max(1, int(ctx.days * (0.8 if known else 1.0)))
        self.arrival = rng.randrange(last_arrival)
        self.stage = ANON
        self.last_end = 0
        self.session_no = 0
        self.ids: dict[tuple[str, str], str] = {}
        self.requests: list[tuple[int, int, Callable[[int], None]]] = []
        if known:
            self._init_known()

    # ---- identity -------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _hex_id(self, prefix: str) -> str:
        return f"{prefix}{self.rng.getrandbits(64):016x}"

    def _new_device(self, i: int) -> Device:
        rng = self.rng
        if i == 0:
            kind = "desktop" if rng.random() < 0.7 else "mobile"
        else:
            kind = "mobile" if rng.random() < 0.7 else "tablet"
        return Device(self._uuid(), rng.choice(cat.USER_AGENTS[kind]))

    def _init_known(self) -> None:
        rng, i = self.rng, self.index
        self.first = rng.choice(cat.FIRST_NAMES)
        self.last = rng.choice(cat.LAST_NAMES)
        word = rng.choice(cat.COMPANY_WORDS)
        suffix, suffix_title = rng.choice(cat.COMPANY_SUFFIXES)
        self.company = f"{word.title()} {suffix_title}"
        domain = f"{word}{suffix}{rng.choice(cat.COMPANY_TLDS)}"
        # A per-person number keeps addresses unique without revealing the person index.
        local = f"{self.first}.{self.last}{bijection(i, 7919, 4321)}"
        work = f"{local}@{domain}"
        personal = f"{self.first}{self.last[0]}{bijection(i, 104729, 777)}@" + rng.choice(
            cat.PERSONAL_DOMAINS
        )
        self.primary, self.secondary = (work, personal) if rng.random() < 0.75 else (personal, work)
        if rng.random() > 0.3:
            self.secondary = None
        self.user_id = f"usr_{bijection(i, 15485863, 271828):06d}"
        self.contact_id = f"C{bijection(i, 32452843, 141421):06d}"
        # Each system stores the address a little differently (case, stray whitespace).
        self.crm_email = self._variant(self.primary)
        self.esp_email = self.primary if rng.random() < 0.8 else self._variant(self.primary)
        cur = weighted(rng, tuple(((c, r), w) for c, r, w in cat.CURRENCIES))
        self.currency, self.fx = cur
        self.u_purchase = rng.gauss(0, 1)
        self.u_churn = rng.gauss(0, 1)
        self.consent = rng.random() < 0.85
        self.erased = False
        self.unsubscribed = False
        self.identified_day: int | None = None
        self.lifecycle = "lead"
        self.created_ts = 0
        self.pricing = 0.0  # decayed count of pricing views
        self.demo = False
        self.trial_day: int | None = None
        self.trial_usage = 0.0
        self.email_clicks = 0
        self.customer_day: int | None = None
        self.churn_day: int | None = None
        self.plan = ""
        self.subscription_id = ""
        self.engagement = 0.0
        self.drift = 0.0
        # What the exports record of usage: app sessions per day as a customer. The churn
        # hazard reads their recent and first-30-day rates, not the latent engagement, so the
        # truth is a function of the data (plus the per-person noise).
        self.sessions_today: int | None = None  # None: not a customer all day
        self.daily_sessions: list[int] = []
        self.bad_from = self.bad_until = -1
        self.next_renewal = -1
        self.first_order_ts = 0

    def _variant(self, email: str) -> str:
        r = self.rng.random()
        if r < 0.55:
            return email
        if r < 0.75:
            return email[0].upper() + email[1:]
        if r < 0.85:
            return email.upper()
        return self.rng.choice((" ", "  ", "")) + email + self.rng.choice((" ", "\t", " "))

    def _note(self, id_type: str, raw: str) -> None:
        key = (id_type, raw.strip().lower())
        if key not in self.ids:
            self.ids[key] = raw

    def _email_for(self, system: str) -> str:
        """Address on an order/ticket: usually primary, sometimes secondary, rarely junk."""
        rng = self.rng
        if rng.random() < 0.03:
            return rng.choice(cat.GENERIC_EMAILS)
        if self.secondary and rng.random() < 0.4:
            return self._variant(self.secondary)
        return self._variant(self.primary)

    def _note_email(self, email: str) -> None:
        if email.strip().lower() not in cat.GENERIC_EMAILS:
            self._note("email", email)

    # ---- timing ---------------------------------------------------------------------------
    def _local_time(self, day: int, work_share: float = 0.7) -> int:
        r = self.rng.random()
        if r < work_share:
            seconds = self.rng.randrange(8 * 3600, 18 * 3600)
        elif r < 0.96:
            seconds = self.rng.randrange(18 * 3600, 24 * 3600)
        else:
            seconds = self.rng.randrange(0, 8 * 3600)
        return self.ctx.start_ts + day * 86400 + seconds - self.offset * 60

    def _request(self, ts: int, run: Callable[[int], None]) -> None:
        self.requests.append((ts, len(self.requests), run))

    def _run_requests(self) -> None:
        """Place the day's sessions in time order, keeping true sessions >= 45 min apart."""
        for desired, _, run in sorted(self.requests):
            start = desired
            if self.last_end and start < self.last_end + SESSION_GAP:
                start = self.last_end + SESSION_GAP + self.rng.randrange(3 * 3600)
            run(start)
        self.requests.clear()

    # ---- web sessions ---------------------------------------------------------------------
    def _landing(self, channel: str, email_campaign: tuple[str, str] | None = None) -> Landing:
        rng = self.rng
        content = rng.choice(cat.BLOG_POSTS + cat.DOCS_PAGES + cat.OTHER_PAGES)
        if channel == "direct":
            return Landing(channel, "", None, rng.choice(cat.OTHER_PAGES[:1] + (cat.PRICING,)))
        if channel == "organic_search":
            return Landing(channel, weighted(rng, cat.SEARCH_REFERRERS), None, content)
        if channel == "paid_search":
            source = "google" if rng.random() < 0.8 else "bing"
            campaign = {"source": source, "medium": "cpc", "name": rng.choice(cat.PAID_CAMPAIGNS)}
            page = rng.choice((cat.PRICING, cat.OTHER_PAGES[0], cat.OTHER_PAGES[1]))
            return Landing(channel, f"https://www.{source}.com/", campaign, page)
        if channel == "social":
            if rng.random() < 0.5:
                source = rng.choice(cat.SOCIAL_SOURCES)
                name = rng.choice(cat.SOCIAL_CAMPAIGNS)
                campaign = {"source": source, "medium": "social", "name": name}
                return Landing(channel, "", campaign, rng.choice(cat.BLOG_POSTS))
            return Landing(channel, rng.choice(cat.SOCIAL_REFERRERS), None, content)
        if channel == "email":
            source, name = email_campaign or ("newsletter", "newsletter")
            campaign = {"source": source, "medium": "email", "name": name}
            return Landing(channel, "", campaign, rng.choice(cat.BLOG_POSTS + (cat.PRICING,)))
        return Landing(channel, rng.choice(cat.REFERRAL_REFERRERS), None, content)

    def _return_channel(self) -> str:
        r = self.rng.random()
        if r < 0.25:
            return self.channel
        return weighted(self.rng, cat.CHANNELS[:4] + cat.CHANNELS[5:])

    def _pick_device(self, app: bool = False) -> Device:
        if len(self.devices) == 1 or self.rng.random() < (0.8 if app else 0.6):
            return self.devices[0]
        return self.rng.choice(self.devices[1:])

    def _session(
        self, start: int, device: Device, landing: Landing | None, steps: list[tuple]
    ) -> list[int | None]:
        """Emit one true session; returns each step's timestamp (None once past the window)."""
        rng, sink = self.rng, self.sink
        self.session_no += 1
        session_id = f"ses_{self.person_id}_{self.session_no:05d}"
        ts = start
        times: list[int | None] = []
        referrer = landing.referrer if landing else ""
        page_ctx: dict = {}
        host = cat.MARKETING_HOST
        for n, step in enumerate(steps):
            if n:
                ts += min(MAX_EVENT_GAP, 1 + int(rng.expovariate(1 / 45)))
            kind = step[0]
            if kind == "identify" and self.known:
                device.identified = True
            event: dict = {
                "type": kind,
                "messageId": self._uuid(),
                "anonymousId": device.anonymous_id,
                "userId": self.user_id if device.identified else None,
                "timestamp": sink.web_ts(rng, ts, self.offset),
            }
            if kind == "page":
                _, path, title, host = step
                url = host + path
                campaign = landing.campaign if (landing and n == 0) else None
                if campaign:
                    url += (
                        f"?utm_source={campaign['source']}&utm_medium={campaign['medium']}"
                        f"&utm_campaign={campaign['name']}"
                    )
                page_ctx = {"url": url, "path": path, "referrer": referrer, "title": title}
                event["name"] = title
                event["properties"] = dict(page_ctx)
                referrer = host + path
            context: dict = {"page": page_ctx, "userAgent": device.user_agent}
            if landing and landing.campaign and n == 0:
                context["campaign"] = landing.campaign
            event["context"] = context
            if kind == "track":
                event["event"] = step[1]
                event["properties"] = step[2]
            elif kind == "identify":
                email = self._variant(self.primary)
                event["traits"] = {"email": email}
            if not sink.add_web(rng, ts, event, session_id):
                times.extend([None] * (len(steps) - n))
                break
            if kind == "page" and self.friction_prone and path == cat.FRICTION_PAGE[0]:
                ts = self._friction_loop(event, ts, start, device, session_id)
            times.append(ts)
            self._note("anonymous_id", device.anonymous_id)
            if event["userId"]:
                self._note("user_id", self.user_id)
            if kind == "identify":
                self._note("email", event["traits"]["email"])
        device.last_end = max(device.last_end, ts)
        self.last_end = max(self.last_end, ts)
        if landing and landing.campaign:
            device.last_campaign_source = landing.campaign["source"]
        return times

    def _friction_loop(
        self, event: dict, ts: int, session_start: int, device: Device, session_id: str
    ) -> int:
        """Reload the page of `event` 2-4 more times; returns the time of the last view.

        Every draw comes from the friction stream; the session's later steps move by the
        reloads' duration, which only this person's timeline sees."""
        frng, first_view = self.friction_rng, ts
        views = 1
        for _ in range(frng.randint(*FRICTION_EXTRA_VIEWS)):
            at = ts + frng.randint(4, 40)
            page = dict(event["properties"], referrer=event["properties"]["url"])
            reload = {
                **event,
                "messageId": str(uuid.UUID(int=frng.getrandbits(128), version=4)),
                "timestamp": self.sink.web_ts(frng, at, self.offset),
                "properties": page,
                "context": {**event["context"], "page": dict(page)},
            }
            if not self.sink.add_web(frng, at, reload, session_id):
                break
            ts, views = at, views + 1
        if views >= 3:
            self.friction_hit = True
            self.friction_loops.append(
                [
                    self.person_id,
                    device.anonymous_id,
                    session_id,
                    iso_timestamp(session_start),
                    event["properties"]["path"],
                    "loop",
                    str(views),
                    iso_timestamp(first_view),
                ]
            )
        return ts

    def _browse_steps(self, landing: Landing, n_pages: int, pricing_p: float) -> list[tuple]:
        rng = self.rng
        steps: list[tuple] = [("page", *landing.page, cat.MARKETING_HOST)]
        pool = cat.BLOG_POSTS + cat.DOCS_PAGES + cat.OTHER_PAGES
        for _ in range(n_pages - 1):
            page = cat.PRICING if rng.random() < pricing_p else rng.choice(pool)
            steps.append(("page", *page, cat.MARKETING_HOST))
        return steps

    def _marketing_session(self, channel: str, email_campaign=None) -> Callable[[int], None]:
        def run(start: int) -> None:
            rng = self.rng
            device = self._pick_device()
            landing = self._landing(channel, email_campaign)
            # ~1% of all sessions (4% of marketing ones) start soon after the previous one on
            # the same device but from another campaign: new by the campaign-change rule.
            if device.last_end and device.last_end == self.last_end and rng.random() < 0.04:
                start = device.last_end + rng.randrange(5 * 60, 25 * 60)
                source = rng.choice(
                    [
                        s
                        for s in ("google", "bing", "linkedin", "twitter")
                        if s != device.last_campaign_source
                    ]
                )
                medium = "cpc" if source in ("google", "bing") else "social"
                names = cat.PAID_CAMPAIGNS if medium == "cpc" else cat.SOCIAL_CAMPAIGNS
                landing.campaign = {"source": source, "medium": medium, "name": rng.choice(names)}
                landing.channel = "paid_search" if medium == "cpc" else "social"
            z = self.intent
            n_pages = 1 + poisson(rng, 1.2 + 0.4 * max(z, 0))
            pricing_p = sigmoid(-1.8 + 0.6 * z) if self.stage in (ANON, LEAD) else 0.05
            steps = self._browse_steps(landing, n_pages, pricing_p)
            if self.known and self.stage == ANON:
                self._maybe_identify(steps)
            elif self.known and self.stage == LEAD:
                self._maybe_evaluate(steps)
            times = self._session(start, device, landing, steps)
            self._after_session(steps, times)

        return run

    def _maybe_identify(self, steps: list[tuple]) -> None:
        rng, z = self.rng, self.intent
        if rng.random() >= sigmoid(-1.1 + 0.5 * z):
            return
        r = rng.random()
        if r < 0.08 + 0.15 * (self.segment == "enterprise") + 0.05 * max(z, 0):
            steps += [
                ("page", *cat.DEMO, cat.MARKETING_HOST),
                ("track", "Demo Requested", {"form": "demo"}),
                ("identify",),
            ]
        elif r < 0.45:
            steps += [
                ("page", *cat.SIGNUP, cat.MARKETING_HOST),
                ("track", "Signed Up", {"method": "email"}),
                ("identify",),
                ("track", "Trial Started", {"trial_days": TRIAL_DAYS}),
            ]
        else:
            steps += [("track", "Newsletter Subscribed", {"list": "newsletter"}), ("identify",)]

    def _maybe_evaluate(self, steps: list[tuple]) -> None:
        rng, z = self.rng, self.intent
        enterprise = self.segment == "enterprise"
        if not self.demo and rng.random() < sigmoid(-3.3 + 0.8 * z + 1.0 * enterprise):
            steps += [
                ("page", *cat.DEMO, cat.MARKETING_HOST),
                ("track", "Demo Requested", {"form": "demo"}),
            ]
        if self.trial_day is None and rng.random() < sigmoid(-2.4 + 0.8 * z - 0.5 * enterprise):
            steps += [
                ("page", *cat.SIGNUP, cat.MARKETING_HOST),
                ("track", "Signed Up", {"method": "email"}),
                ("track", "Trial Started", {"trial_days": TRIAL_DAYS}),
            ]
        if not self._any_identified() or self.rng.random() < 0.3:
            steps.append(("identify",))

    def _any_identified(self) -> bool:
        return any(d.identified for d in self.devices)

    def _after_session(self, steps: list[tuple], times: list[int | None]) -> None:
        """Apply what the (written) session did to the person's latent state."""
        if not self.known:
            return
        written = [(step, ts) for step, ts in zip(steps, times, strict=True) if ts is not None]
        self.pricing += sum(1 for step, _ in written if step[0] == "page" and step[1] == "/pricing")
        if self.stage == ANON:
            # The form submit creates the CRM contact; earlier steps of the session then
            # update it (a demo request makes the new lead an SQL straight away).
            identify_ts = next((ts for step, ts in written if step[0] == "identify"), None)
            if identify_ts is None:
                return
            self._become_lead(identify_ts)
        for step, ts in written:
            if step[0] == "track" and step[1] == "Demo Requested" and not self.demo:
                self.demo = True
                self._crm_update(ts, "sql")
            elif step[0] == "track" and step[1] == "Trial Started" and self.trial_day is None:
                self.trial_day = (ts - self.ctx.start_ts) // 86400
                self._crm_update(ts, "opportunity")
        if written and self.stage == LEAD and self.lifecycle == "lead" and self.pricing >= 2:
            self._crm_update(written[-1][1], "mql")

    # ---- CRM ------------------------------------------------------------------------------
    def _become_lead(self, ts: int) -> None:
        self.stage = LEAD
        self.identified_day = (ts - self.ctx.start_ts) // 86400
        # The CRM contact is created a few minutes after the form submit.
        self.created_ts = ts + self.rng.randrange(30, 900)
        self._crm_update(self.created_ts, "lead")

    def _crm_update(self, ts: int, stage: str | None = None) -> None:
        if stage:
            self.lifecycle = stage
        ts = max(ts, self.created_ts)
        sink, rng = self.sink, self.rng
        row = [
            self.contact_id,
            self.crm_email,
            self.first.title(),
            self.last.title(),
            self.company,
            self.segment,
            self.country,
            self.lifecycle,
            sink.ts(rng, self.created_ts, self.offset),
            sink.ts(rng, ts, self.offset),
            "true" if self.consent else "false",
        ]
        if sink.add_row(rng, "crm_contacts", ts, row):
            self._note("contact_id", self.contact_id)
            self._note_email(self.crm_email)

    # ---- email ----------------------------------------------------------------------------
    def _send_email(self, day: int, kind: str, campaign_id: str, name: str) -> None:
        if not self.consent or self.erased:
            return
        rng, sink = self.rng, self.sink
        ts = self.ctx.start_ts + day * 86400 + 14 * 3600 + rng.randrange(3600)
        email = self.esp_email

        def emit(event_type: str, at: int) -> None:
            row = [
                self._hex_id("ee_"),
                email,
                campaign_id,
                name,
                event_type,
                sink.ts(rng, at, self.offset, zulu=True),
            ]
            if sink.add_row(rng, "email_events", at, row):
                self._note_email(email)

        emit("sent", ts)
        if rng.random() < 0.03:
            emit("bounce", ts + rng.randrange(2, 60))
            return
        ts += rng.randrange(2, 60)
        emit("delivered", ts)
        if self.stage == CUSTOMER:
            p_open = sigmoid(-0.5 + 0.8 * self.engagement)
        else:
            p_open = sigmoid(-0.9 + 0.4 * self.intent)
        if rng.random() >= p_open:
            return
        ts += rng.randrange(60, 6 * 3600)
        emit("open", ts)
        unsub_p = 0.004 + (0.03 if self.stage == CUSTOMER and self.engagement < -0.8 else 0)
        if rng.random() < unsub_p:
            ts += rng.randrange(10, 120)
            emit("unsubscribe", ts)
            self.consent = False
            self.unsubscribed = True
            self._crm_update(ts)
            return
        if rng.random() < 0.25:
            ts += rng.randrange(5, 120)
            emit("click", ts)
            self.email_clicks += 1
            source = kind.replace("-", "_")
            self._request(
                ts + rng.randrange(2, 30), self._marketing_session("email", (source, name))
            )

    def _emails(self, day: int) -> None:
        weekday_offset = day % 14
        if weekday_offset == 3 and self.stage != CHURNED:
            date = self.ctx.dates[day]
            self._send_email(day, "newsletter", f"CMP-NL-{date}", f"Newsletter {date}")
        since = day - (self.identified_day or 0)
        if self.stage == LEAD and since in NURTURE_STEPS:
            step = NURTURE_STEPS.index(since) + 1
            self._send_email(day, "nurture", f"CMP-NURTURE-{step}", f"Nurture step {step}")
        if self.stage == CUSTOMER:
            tenure = day - (self.customer_day or 0)
            if tenure in ONBOARDING_STEPS:
                step = ONBOARDING_STEPS.index(tenure) + 1
                self._send_email(day, "onboarding", f"CMP-ONB-{step}", f"Onboarding {step}")
            if day % 30 == 10:
                month = self.ctx.dates[day][:7]
                self._send_email(
                    day, "product-updates", f"CMP-PU-{month}", f"Product updates {month}"
                )
        if self.stage == CHURNED and day - (self.churn_day or 0) in (14, 45):
            self._send_email(day, "win-back", "CMP-WINBACK", "We miss you")

    # ---- product usage --------------------------------------------------------------------
    def _app_session(self, start: int) -> None:
        rng = self.rng
        device = self._pick_device(app=True)
        steps: list[tuple] = []
        if not device.identified:
            steps += [("page", "/login", "Log in", cat.APP_HOST), ("identify",)]
        steps.append(("track", "Logged In", {}))
        level = self.engagement if self.stage == CUSTOMER else 0.3 * self.intent
        for _ in range(1 + poisson(rng, 2.0 * math.exp(level / 2))):
            r = rng.random()
            if r < 0.3:
                steps.append(("page", *rng.choice(cat.APP_PAGES), cat.APP_HOST))
            elif r < 0.8:
                steps.append(("track", "Feature Used", {"feature": rng.choice(cat.FEATURES)}))
            elif r < 0.9:
                steps.append(("track", "Report Exported", {"format": rng.choice(("csv", "pdf"))}))
            elif r < 0.96:
                steps.append(("track", "Dashboard Created", {}))
            else:
                steps.append(("track", "Invite Sent", {"seats": 1}))
        times = self._session(start, device, None, steps)
        if self.stage == LEAD:
            self.trial_usage += sum(1 for t in times if t is not None)

    # ---- money ----------------------------------------------------------------------------
    def _amount(self, usd: float) -> str:
        return f"{usd * self.fx:.2f}"

    def _order(
        self,
        ts: int,
        status: str,
        usd: float,
        order_type: str,
        order_id: str | None = None,
        row_ts: int | None = None,
    ) -> str:
        rng = self.rng
        order_id = order_id or self._hex_id("ord_")
        contact = self.contact_id if rng.random() < 0.85 else ""
        email = self._email_for("orders")
        row = [
            order_id,
            contact,
            email,
            self.sink.ts(rng, ts, self.offset),
            status,
            self._amount(usd),
            self.currency,
            self.plan,
            order_type,
        ]
        if self.sink.add_row(rng, "orders", row_ts or ts, row):
            if contact:
                self._note("contact_id", contact)
            self._note_email(email)
        return order_id

    def _subscription_row(self, ts: int, canceled_ts: int | None = None, reason: str = "") -> None:
        sink, rng = self.sink, self.rng
        row = [
            self.subscription_id,
            self.contact_id,
            self.plan,
            f"{cat.PLAN_MRR[self.plan]:.2f}",
            sink.ts(rng, self.first_order_ts, self.offset),
            sink.ts(rng, canceled_ts, self.offset) if canceled_ts else "",
            reason,
            "canceled" if canceled_ts else "active",
        ]
        if sink.add_row(rng, "subscriptions", ts, row):
            self._note("contact_id", self.contact_id)

    def _purchase(self, day: int) -> None:
        rng = self.rng
        mix = cat.PLAN_MIX[self.segment]
        self.plan = weighted(rng, tuple(zip(cat.PLAN_ORDER, mix, strict=True)))
        self.subscription_id = self._hex_id("sub_")
        self.stage = CUSTOMER
        self.customer_day = day
        self.engagement = rng.gauss(0.25 * self.intent + 0.15 * self.trial_usage**0.5 - 0.3, 0.5)
        self.daily_sessions = []
        # Some customers drift away slowly: the usage decline is what churn models can see.
        self.drift = rng.gauss(-0.004, 0.009)
        self.next_renewal = day + 30

        def complete(ts: int) -> None:
            self.first_order_ts = ts
            price = cat.PLAN_MRR[self.plan]
            if rng.random() < 0.04:
                self._order(ts - rng.randrange(60, 600), "failed", price, "new")
            order_id = self._order(ts, "paid", price, "new")
            if rng.random() < 0.02:
                refund_ts = ts + rng.randrange(1, 5) * 86400
                self._order(ts, "refunded", price, "new", order_id, row_ts=refund_ts)
            self._subscription_row(ts)
            self._crm_update(ts + rng.randrange(60, 3600), "customer")

        if rng.random() < 0.8:

            def checkout(start: int) -> None:
                device = self._pick_device(app=True)
                steps = [
                    ("page", *cat.PRICING, cat.MARKETING_HOST),
                    ("page", *cat.CHECKOUT, cat.MARKETING_HOST),
                    ("track", "Checkout Started", {"plan": self.plan}),
                    (
                        "track",
                        "Order Completed",
                        {
                            "plan": self.plan,
                            "revenue": round(cat.PLAN_MRR[self.plan] * self.fx, 2),
                            "currency": self.currency,
                        },
                    ),
                ]
                if not device.identified:
                    steps.insert(0, ("identify",))
                times = self._session(start, device, self._landing("direct"), steps)
                complete(times[-1] if times[-1] is not None else start)

            self._request(self._local_time(day), checkout)
        else:
            # Sales-led deal: no web checkout, the order simply appears.
            complete(self._local_time(day, work_share=1.0))

    def _customer_day(self, day: int) -> None:
        rng = self.rng
        day_ts = self.ctx.start_ts + day * 86400
        if day >= self.next_renewal:
            self.next_renewal += 30
            ts = day_ts + rng.randrange(6 * 3600)
            price = cat.PLAN_MRR[self.plan]
            if rng.random() < 0.03:
                self._order(ts, "failed", price, "renewal")
                ts += 86400
            self._order(ts, "paid", price, "renewal")
        if self.engagement > 0.6 and self.plan != "business" and rng.random() < 0.004:
            old = cat.PLAN_MRR[self.plan]
            self.plan = cat.PLAN_ORDER[cat.PLAN_ORDER.index(self.plan) + 1]
            ts = self._local_time(day, work_share=1.0)
            self._order(
                ts, "paid", (cat.PLAN_MRR[self.plan] - old) * rng.uniform(0.3, 1.0), "upgrade"
            )
            self._subscription_row(ts)
        if rng.random() < 0.002:
            ts = self._local_time(day, work_share=1.0)
            self._order(ts, "paid", rng.choice((99.0, 199.0)), "add_on")

    def _ticket(self, day: int) -> None:
        rng, sink = self.rng, self.sink
        created = self._local_time(day, work_share=0.9)
        ticket_id = self._hex_id("T")
        email = self._email_for("tickets")
        subject, description = rng.choice(cat.TICKET_TOPICS)
        channel = rng.choice(("email", "chat", "web"))
        priority = weighted(rng, (("low", 0.3), ("normal", 0.5), ("high", 0.15), ("urgent", 0.05)))
        # The ticket's latent outcome is decided before its text is written, on its own stream
        # (every draw of the person's stream stays as it was): `patience` in [0, 1) is what the
        # solve is measured against below, and the tone of the text follows it, with noise.
        tone_rng = random.Random(f"{self.ctx.seed}:tone:{self.person_id}:{ticket_id}")
        patience = tone_rng.random()
        tone = ticket_tone(tone_rng, patience)
        subject, description = ticket_text(tone_rng, tone, subject, description)

        def emit(at: int, status: str, solved: int | None, satisfaction: str) -> None:
            row = [
                ticket_id,
                email,
                sink.ts(rng, created, self.offset),
                sink.ts(rng, at, self.offset),
                sink.ts(rng, solved, self.offset) if solved else "",
                channel,
                priority,
                status,
                satisfaction,
                subject,
                description,
            ]
            if sink.add_row(rng, "support_tickets", at, row):
                self._note_email(email)

        emit(created, "new", None, "")
        delay_days = min(6, poisson(rng, 1.2 if priority in ("low", "normal") else 0.6))
        if delay_days and rng.random() < 0.6:
            emit(created + rng.randrange(1800, 8 * 3600), "open", None, "")
        solved = created + delay_days * 86400 + rng.randrange(600, 6 * 3600)
        satisfaction = ""
        # True outcome, rated or not: a bad experience when patience runs out before the solve.
        bad_p = 0.12 + 0.2 * (priority in ("high", "urgent")) + 0.25 * (delay_days > 2)
        bad_outcome = patience < bad_p
        if rng.random() < 0.6:
            rng.random()  # the draw that decided the rating before tickets had a tone: kept
            satisfaction = "bad" if bad_outcome else "good"
        emit(solved, "solved", solved, satisfaction)
        self.sink.ticket_tone.append(
            [ticket_id, self.person_id, tone, "true" if bad_outcome else "false", satisfaction]
        )
        if satisfaction == "bad":
            solved_day = (solved - self.ctx.start_ts) // 86400
            self.bad_from, self.bad_until = solved_day, solved_day + 30

    def _cancel(self, day: int) -> None:
        rng = self.rng
        ts = self._local_time(day, work_share=0.9)
        if self.engagement < -0.8 and rng.random() < 0.7:
            reason = rng.choice(cat.CANCEL_REASONS_LOW_USAGE)
        elif self.bad_from <= day <= self.bad_until and rng.random() < 0.6:
            reason = "poor_support"
        else:
            reason = rng.choice(cat.CANCEL_REASONS_OTHER)
        self._subscription_row(ts, ts, reason)
        self.stage = CHURNED
        self.churn_day = day
        self._crm_update(ts + rng.randrange(60, 7200), "churned")

    def _privacy_request(self, day: int) -> None:
        rng = self.rng
        ts = self._local_time(day)
        kind = "opt_out" if rng.random() < 0.6 else "erasure"
        email = self._variant(self.primary)
        row = [self._hex_id("pr_"), email, kind, self.sink.ts(rng, ts, self.offset)]
        if self.sink.add_row(rng, "privacy_requests", ts, row):
            self._note_email(email)
            self.consent = False
            self.erased = kind == "erasure"
            self._crm_update(ts + rng.randrange(3600, 86400))

    # ---- hazards (the ground truth) -------------------------------------------------------
    def purchase_hazard(self, day: int) -> float:
        trial = 0.0
        if self.trial_day is not None:
            trial = 1.8 if day - self.trial_day < TRIAL_DAYS else 0.4
        logit = (
            -6.9
            + 0.9 * math.log1p(self.pricing)
            + 1.1 * self.demo
            + trial
            + 0.35 * math.log1p(self.trial_usage)
            + 0.3 * math.log1p(self.email_clicks)
            + SEGMENT_PURCHASE[self.segment]
            + HIDDEN_NOISE * self.u_purchase
        )
        # Planted friction: a known multiplicative effect on the daily hazard.
        friction = FRICTION_PURCHASE_FACTOR if self.friction_hit else 1.0
        return min(1.0, sigmoid(logit) * friction * self._treatment_factor(day, PURCHASE_HAZARD))

    def _treatment_factor(self, day: int, hazard: str) -> float:
        t = self.treatment
        return t.factor if t is not None and t.hazard == hazard and day >= t.day else 1.0

    def churn_hazard(self, day: int) -> float:
        bad = self.bad_from <= day <= self.bad_until
        # Usage on the engagement scale: log of the recorded app sessions per day over the
        # last 14 days and over the first 30 days as a customer (before the first full day,
        # the rate the customer starts at).
        days = self.daily_sessions
        if days:
            recent = days[-USAGE_RECENT_DAYS:]
            now_rate, start_rate = sum(recent) / len(recent), sum(days[:30]) / len(days[:30])
        else:
            now_rate = start_rate = USAGE_PER_UNIT * math.exp(self.engagement)
        usage_now = math.log((now_rate + 0.05) / USAGE_PER_UNIT)
        usage_start = math.log((start_rate + 0.05) / USAGE_PER_UNIT)
        logit = (
            -5.9
            - 0.8 * usage_now
            + 1.2 * max(0.0, usage_start - usage_now)
            + 1.3 * bad
            + 1.0 * self.unsubscribed
            + PLAN_CHURN[self.plan]
            + HIDDEN_NOISE * self.u_churn
        )
        return min(1.0, sigmoid(logit) * self._treatment_factor(day, CHURN_HAZARD))

    # ---- main loop ------------------------------------------------------------------------
    def run(self) -> None:
        if self.known:
            self._run_known()
        else:
            self._run_anonymous()
        for (id_type, _), raw in self.ids.items():
            self.sink.identifiers.append((id_type, raw, self.person_id))

    def _run_anonymous(self) -> None:
        rng = self.rng
        for day in range(self.arrival, min(self.ctx.days, self.arrival + 45)):
            if day == self.arrival or rng.random() < 0.03:
                channel = self.channel if day == self.arrival else self._return_channel()
                self._request(self._local_time(day, 0.6), self._marketing_session(channel))
                self._run_requests()
        self.sink.people.append([self.person_id, self.segment, self.channel, "true", "", "", ""])

    def _run_known(self) -> None:
        rng, ctx = self.rng, self.ctx
        for day in range(self.arrival, ctx.days):
            stage = self.stage
            if stage == ANON:
                if day == self.arrival or rng.random() < 0.18:
                    channel = self.channel if day == self.arrival else self._return_channel()
                    self._request(self._local_time(day, 0.6), self._marketing_session(channel))
            elif stage == LEAD:
                if rng.random() < self.purchase_hazard(day):
                    self._purchase(day)
                else:
                    trial_active = self.trial_day is not None and day - self.trial_day < TRIAL_DAYS
                    if rng.random() < sigmoid(-2.6 + 0.7 * self.intent + 1.0 * trial_active):
                        channel = self._return_channel()
                        self._request(self._local_time(day), self._marketing_session(channel))
                    if trial_active:
                        for _ in range(poisson(rng, 1.1 * sigmoid(self.intent + 0.3))):
                            self._request(self._local_time(day, 0.8), self._app_session)
                    if rng.random() < (0.008 if trial_active else 0.0008):
                        self._ticket(day)
            elif stage == CUSTOMER:
                if rng.random() < self.churn_hazard(day):
                    self._cancel(day)
                else:
                    self._customer_day(day)
                    weekend = (ctx.start_ts // 86400 + day) % 7 in (2, 3)  # epoch day 0 = Thu
                    lam = 0.6 * math.exp(self.engagement) * (0.35 if weekend else 1.0)
                    self.sessions_today = poisson(rng, lam)
                    for _ in range(self.sessions_today):
                        self._request(self._local_time(day, 0.85), self._app_session)
                    if rng.random() < 0.01 + 0.012 * (self.engagement < -0.5):
                        self._ticket(day)
                    if rng.random() < 0.02:
                        self._request(self._local_time(day), self._marketing_session("direct"))
            elif rng.random() < 0.01:
                self._request(self._local_time(day), self._marketing_session("direct"))
            if self.stage != ANON:
                self._emails(day)
                if not self.erased and rng.random() < 0.00005:
                    self._privacy_request(day)
            self._run_requests()
            self._end_of_day(day)
        self._people_row()

    def _end_of_day(self, day: int) -> None:
        rng = self.rng
        self.pricing *= 0.85
        self.trial_usage *= 0.8
        if self.stage == CUSTOMER:
            self.engagement += self.drift + rng.gauss(0, 0.06)
            self.engagement = min(1.5, max(-3.0, self.engagement))
            if self.sessions_today is not None:
                self.daily_sessions.append(self.sessions_today)
        self.sessions_today = None
        if day in self.ctx.as_of_days and self.stage != ANON:
            p_churn = p_purchase = ""
            if self.stage == CUSTOMER:
                p_churn = f"{1 - (1 - self.churn_hazard(day + 1)) ** 30:.6f}"
            elif self.stage == LEAD:
                p_purchase = f"{1 - (1 - self.purchase_hazard(day + 1)) ** 14:.6f}"
            self.sink.probabilities.append(
                [self.person_id, self.ctx.dates[day], p_churn, p_purchase]
            )

    def purchased_at(self) -> str:
        """Time of the first paid order in the window ('' if none): the pipeline's purchase."""
        if self.customer_day is None or not self.first_order_ts:
            return ""
        if self.first_order_ts >= self.ctx.start_ts + self.ctx.days * 86400:
            return ""
        return iso_timestamp(self.first_order_ts)

    def _people_row(self) -> None:
        dates = self.ctx.dates

        def date(day: int | None) -> str:
            return dates[day] if day is not None else ""

        self.sink.people.append(
            [
                self.person_id,
                self.segment,
                self.channel,
                "false",
                date(self.customer_day),
                date(self.churn_day),
                date(self.identified_day),
            ]
        )
