"""Static vocabulary of the simulated business "Acme Analytics": plans, pages, campaigns,
names and the exact export headers from docs/raw_tables.md."""

from __future__ import annotations

MARKETING_HOST = "https://www.acme-analytics.com"
APP_HOST = "https://app.acme-analytics.com"

# Export headers: binding contract, see docs/raw_tables.md.
CSV_HEADERS: dict[str, tuple[str, ...]] = {
    "crm_contacts": (
        "contact_id",
        "email",
        "first_name",
        "last_name",
        "company",
        "segment",
        "country",
        "lifecycle_stage",
        "created_at",
        "updated_at",
        "marketing_consent",
    ),
    "email_events": (
        "event_id",
        "email",
        "campaign_id",
        "campaign_name",
        "event_type",
        "occurred_at",
    ),
    "support_tickets": (
        "ticket_id",
        "requester_email",
        "created_at",
        "updated_at",
        "solved_at",
        "channel",
        "priority",
        "status",
        "satisfaction",
        "subject",
        "description",
    ),
    "orders": (
        "order_id",
        "contact_id",
        "email",
        "ordered_at",
        "status",
        "amount",
        "currency",
        "plan",
        "order_type",
    ),
    "subscriptions": (
        "subscription_id",
        "contact_id",
        "plan",
        "mrr",
        "started_at",
        "canceled_at",
        "cancel_reason",
        "status",
    ),
    "privacy_requests": ("request_id", "email", "request_type", "requested_at"),
}

# Which column of a row the malformed-row injector may break: (timestamp index, amount index).
CORRUPTIBLE: dict[str, tuple[int, int | None]] = {
    "crm_contacts": (9, None),
    "email_events": (5, None),
    "support_tickets": (3, None),
    "orders": (3, 5),
    "subscriptions": (4, 3),
    "privacy_requests": (3, None),
}

PLAN_MRR: dict[str, float] = {"starter": 49.0, "pro": 199.0, "business": 799.0}
PLAN_ORDER = ("starter", "pro", "business")
PLAN_MIX: dict[str, tuple[float, float, float]] = {
    "smb": (0.60, 0.35, 0.05),
    "mid_market": (0.25, 0.55, 0.20),
    "enterprise": (0.05, 0.35, 0.60),
}
CURRENCIES = (("USD", 1.0, 0.85), ("EUR", 0.92, 0.10), ("GBP", 0.79, 0.05))

SEGMENTS = (("smb", 0.60), ("mid_market", 0.30), ("enterprise", 0.10))
CHANNELS = (
    ("direct", 0.18),
    ("organic_search", 0.30),
    ("paid_search", 0.16),
    ("social", 0.12),
    ("email", 0.06),
    ("referral", 0.18),
)
# Mean purchase intent by segment and acquisition channel: drives drop-off differences.
SEGMENT_INTENT = {"smb": 0.0, "mid_market": 0.2, "enterprise": 0.35}
CHANNEL_INTENT = {
    "direct": 0.3,
    "organic_search": 0.0,
    "paid_search": 0.35,
    "social": -0.5,
    "email": 0.2,
    "referral": 0.25,
}

# (UTC offset in minutes, country choices, weight). No DST: the demo does not need it.
REGIONS = (
    (-300, ("US", "CA"), 0.25),
    (-480, ("US",), 0.13),
    (-180, ("BR",), 0.04),
    (0, ("GB", "IE", "PT"), 0.15),
    (60, ("DE", "FR", "NL", "ES", "SE"), 0.22),
    (120, ("FI", "GR", "ZA"), 0.06),
    (330, ("IN",), 0.10),
    (600, ("AU",), 0.05),
)

USER_AGENTS = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
    ),
}

BLOG_POSTS = (
    ("/blog/what-is-customer-journey-analytics", "What is customer journey analytics?"),
    ("/blog/sql-dashboards-in-10-minutes", "SQL dashboards in 10 minutes"),
    ("/blog/cohort-retention-explained", "Cohort retention, explained"),
    ("/blog/attribution-models-compared", "Attribution models compared"),
    ("/blog/acme-vs-spreadsheets", "Acme vs. spreadsheets"),
    ("/blog/release-notes-2026", "Release notes 2026"),
)
DOCS_PAGES = (
    ("/docs/getting-started", "Getting started"),
    ("/docs/connect-postgres", "Connect Postgres"),
    ("/docs/scheduled-reports", "Scheduled reports"),
    ("/docs/sso", "Single sign-on"),
    ("/docs/api", "API reference"),
)
OTHER_PAGES = (
    ("/", "Acme Analytics - analytics your whole team can use"),
    ("/features", "Features"),
    ("/customers", "Customer stories"),
)
PRICING = ("/pricing", "Pricing")
SIGNUP = ("/signup", "Start your free trial")
DEMO = ("/demo-request", "Request a demo")
CHECKOUT = ("/checkout", "Checkout")
# The page that loops for friction-prone people (simulation.FRICTION_SHARE).
FRICTION_PAGE = SIGNUP
APP_PAGES = (
    ("/app/dashboard", "Dashboard"),
    ("/app/reports", "Reports"),
    ("/app/sql", "SQL editor"),
    ("/app/alerts", "Alerts"),
    ("/app/settings", "Settings"),
)
FEATURES = ("reports", "dashboards", "alerts", "sql_editor", "integrations", "forecasting")

SEARCH_REFERRERS = (("https://www.google.com/", 0.85), ("https://www.bing.com/", 0.15))
SOCIAL_REFERRERS = (
    "https://www.linkedin.com/",
    "https://t.co/",
    "https://www.facebook.com/",
    "https://www.reddit.com/",
)
REFERRAL_REFERRERS = (
    "https://www.g2.com/products/acme-analytics/reviews",
    "https://www.capterra.com/p/acme/",
    "https://news.ycombinator.com/",
    "https://datatools-weekly.com/issue-112",
    "https://partner.example-consulting.com/blog/bi-stack",
)
PAID_CAMPAIGNS = ("brand_search", "analytics_software", "competitor_conquest", "bi_tools_2026")
SOCIAL_CAMPAIGNS = ("q1_launch", "webinar_promo", "case_study_push")
SOCIAL_SOURCES = ("linkedin", "twitter", "facebook")

FIRST_NAMES = (
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "priya",
    "arjun",
    "lena",
    "lukas",
    "sofia",
    "mateo",
    "yuki",
    "hana",
    "oliver",
    "amelia",
    "noah",
    "emma",
    "liam",
    "chloe",
    "ravi",
    "ana",
    "jonas",
    "marta",
    "pedro",
    "ines",
    "ahmed",
    "fatima",
    "wei",
    "mei",
    "olga",
    "ivan",
    "zoe",
    "leo",
)
LAST_NAMES = (
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "wilson",
    "anderson",
    "taylor",
    "thomas",
    "moore",
    "jackson",
    "martin",
    "lee",
    "patel",
    "sharma",
    "muller",
    "schmidt",
    "rossi",
    "silva",
    "santos",
    "tanaka",
    "sato",
    "kim",
    "nguyen",
    "dubois",
    "novak",
    "kowalski",
    "jensen",
    "larsen",
    "okafor",
    "mensah",
    "cohen",
    "murphy",
)
COMPANY_WORDS = (
    "bright",
    "north",
    "blue",
    "iron",
    "cedar",
    "quantum",
    "pixel",
    "harbor",
    "summit",
    "nova",
    "atlas",
    "maple",
    "vertex",
    "lumen",
    "orbit",
    "granite",
    "willow",
    "falcon",
    "delta",
    "echo",
)
COMPANY_SUFFIXES = (
    ("peak", "Peak"),
    ("labs", "Labs"),
    ("works", "Works"),
    ("data", "Data"),
    ("logistics", "Logistics"),
    ("health", "Health"),
    ("retail", "Retail"),
    ("bank", "Bank"),
    ("systems", "Systems"),
    ("media", "Media"),
)
COMPANY_TLDS = (".com", ".io", ".co", ".de", ".net")
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")

# Junk values that several unrelated people share; identity stitching must ignore them.
GENERIC_EMAILS = ("", "unknown", "test@example.com", "noreply@acme-analytics.com")

TICKET_TOPICS = (
    ("Cannot connect to Postgres", "Connection to our Postgres warehouse times out, error 08001."),
    ("Dashboard loads slowly", "Our main dashboard takes over a minute to load, since Monday."),
    ("Invoice question", "We were charged twice this month, please check the invoice."),
    ("SSO setup", "How do we configure SAML single sign-on with Okta?"),
    ("Export to CSV broken", 'Exporting a report to CSV gives an empty file, "no rows".'),
    ("Feature request: alerts", "Could alerts be sent to Slack, not only by email?"),
    ("Seats and billing", "How do we add five seats, and is it prorated?"),
    ("Scheduled report missing", "The weekly report did not arrive this Monday; timezone issue?"),
)
# Tone of a ticket's text (simulation._ticket): the topic's neutral text plus, by the written
# tone, a subject prefix and a closing sentence. Negative phrasings use words VADER's lexicon
# knows; some neutral closings still carry a little polarity, as real text does.
TICKET_TONE_SUBJECT_PREFIXES: dict[str, tuple[str, ...]] = {
    "negative": ("Still broken: ", "URGENT - ", "Again: ", "Unacceptable: ", "", ""),
    "neutral": ("", "", "", "Question: ", "Re: "),
    "positive": ("", "", "Quick question: ", "Small thing: "),
}
TICKET_TONE_CLOSINGS: dict[str, tuple[str, ...]] = {
    "negative": (
        "This is really frustrating, it is still broken.",
        "Terrible experience so far, we are seriously thinking about cancelling.",
        "Very disappointed: third time we report this and nobody answers.",
        "This is unacceptable for what we pay. Please fix it today.",
        "We are losing hours every week because of this. Awful.",
        "Honestly fed up. If this is not fixed we will cancel.",
        "Your last fix did not work and the team is angry.",
        "Worst support experience I have had, still waiting.",
    ),
    "neutral": (
        "Details are below.",
        "Sent from the team account.",
        "Screenshot attached.",
        "Our account id is in the signature.",
        "Let me know if you need the logs.",
        "",
    ),
    "positive": (
        "Thanks a lot, we love the product otherwise!",
        "Great tool, just this one question. Thank you!",
        "Happy with everything so far, thanks for the help.",
        "Your support was excellent last time, thanks in advance.",
        "Nice work on the last release by the way!",
        "Appreciate the quick answers, you are great.",
    ),
}
CANCEL_REASONS_LOW_USAGE = ("low_usage", "not_using_enough", "missing_features")
CANCEL_REASONS_OTHER = ("too_expensive", "switched_competitor", "budget_cuts", "other")
