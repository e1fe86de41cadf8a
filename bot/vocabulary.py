"""Incident vocabulary: phrases and words that mean the same thing, folded into one concept term.

Applied to playbooks and queries alike, so "out of memory", "OOMKilled" and "oom" meet, and so do
"too many clients already" and "connection pool exhausted". Concepts are words a person would recognise
in the matcher's explanations.
"""

from __future__ import annotations

import re

# Multi-word expressions, replaced before splitting into words (longest first at build time).
PHRASES: dict[str, str] = {
    "out of memory": "oom",
    "big query": "bigquery",  # as people write it, and as "BigQueryHook" splits
    "bad alloc": "oom",  # C++'s std::bad_alloc
    "memory limit exceeded": "oom memory",
    "exit code 137": "oom",
    "too many clients": "connlimit",
    "kombu exceptions operationalerror": "celery exception",  # the broker's, not a database's OperationalError
    "too many connections": "connlimit",
    "pool starvation": "connlimit",
    "resource request timed out": "connlimit",  # generic-pool (knex, sequelize): no connection free in time
    "timeout acquiring a connection": "connlimit",
    "connection starvation": "connlimit",
    "hanging connections": "connlimit",
    "hanging db connections": "connlimit",
    "out of connections": "connlimit",
    "out of db connections": "connlimit",
    "out of database connections": "connlimit",
    "out of available connections": "connlimit",
    "out of free connections": "connlimit",
    "out of postgres connections": "connlimit",
    "connection leak": "connlimit leak",
    "connections leak": "connlimit leak",
    "leaking connections": "connlimit leak",
    "not closing connections": "connlimit",
    "not closing db connections": "connlimit",
    "not closing database connections": "connlimit",
    "idle in transaction": "connlimit",
    "remaining connection slots are reserved": "connlimit",
    "max connections": "connlimit",
    "max_connections": "connlimit",
    "connection refused": "connrefused",
    "econnrefused": "connrefused",
    "connection reset": "connreset",
    "econnreset": "connreset",
    "timed out": "timeout",
    "time out": "timeout",
    "times out": "timeout",
    "timing out": "timeout",
    "hanging requests": "timeout",  # a request that hangs times out: no stuck job
    "requests hang": "timeout",
    "requests hanging": "timeout",
    "request hangs": "timeout",
    "deadline exceeded": "timeout",
    "gateway timeout": "504 timeout",
    "upstream timed out": "upstream timeout 504",  # nginx's log line for the 504 it answers
    "bad gateway": "5xx",
    "internal server error": "5xx",
    "internal error": "5xx",
    "server error": "5xx",
    "service unavailable": "503",
    "not responding": "unresponsive",
    "no response": "unresponsive",
    "permission denied": "forbidden",
    "access denied": "forbidden",
    "access is denied": "forbidden",
    "access was denied": "forbidden",
    "denies access": "forbidden",
    "denied access": "forbidden",
    "deny access": "forbidden",
    "denying access": "forbidden",
    "accessdenied": "forbidden",
    "not allowed": "forbidden",
    "insufficient permissions": "forbidden",
    "insufficient permission": "forbidden",
    "does not have permission": "forbidden",
    "doesnt have permission": "forbidden",
    "missing permission": "forbidden",
    "missing permissions": "forbidden",
    "not permitted": "forbidden",
    "not authorized": "unauthorized",
    "not authenticated": "unauthorized",
    "authentication failed": "unauthorized",
    "authentication failure": "unauthorized",
    "auth failed": "unauthorized",
    "invalid credentials": "unauthorized credentials",
    "address already in use": "portinuse",
    "eaddrinuse": "portinuse",
    "port is already allocated": "portinuse",
    "already in use": "portinuse",
    "only one usage of each socket address": "portinuse",  # Windows' WSAEADDRINUSE (errno 10048)
    "error while attempting to bind": "portinuse",
    "connection in use": "portinuse",
    "no module named": "importerror",
    "modulenotfounderror": "importerror",
    "cannot import name": "importerror",
    "rate limit": "ratelimit",
    "rate limited": "ratelimit",
    "rate limiting": "ratelimit",
    "ratelimited": "ratelimit",
    "too many requests": "ratelimit",
    "resource exhausted": "ratelimit quota",
    "resourceexhausted": "ratelimit quota",
    "quota exceeded": "ratelimit quota",
    "name resolution": "dns",
    "name or service not known": "dns",
    "no such host": "dns",
    "could not resolve": "dns",
    # "resolve" alone is as often an issue, a conflict or an alert ("investigate and resolve the job failures"):
    # failing to resolve, or resolving a host or a name, is DNS
    "failed to resolve": "dns",
    "fails to resolve": "dns",
    "failing to resolve": "dns",
    "unable to resolve": "dns",
    "cannot resolve": "dns",
    "can not resolve": "dns",
    "cant resolve": "dns",
    "couldnt resolve": "dns",
    "wont resolve": "dns",
    "not resolve": "dns",
    "not resolving": "dns",
    "doesnt resolve": "dns",
    "resolve failed": "dns",
    "resolving failed": "dns",
    "error resolving": "dns",
    "resolve host": "dns",
    "resolve hostname": "dns",
    "resolve the host": "dns",
    "resolving host": "dns",
    "resolving hostname": "dns",
    "resolve name": "dns",
    "resolving name": "dns",
    "resolve domain": "dns",
    "resolving domain": "dns",
    "resolve dns": "dns",
    "could not translate host name": "dns",
    "getaddrinfo": "dns",
    "nodename nor servname": "dns",
    "response time": "slow",
    "response times": "slow",
    "takes forever": "slow",
    "tens of seconds": "slow",
    "several seconds": "slow",
    "many seconds": "slow",
    "too long": "slow",
    "so long": "slow",
    "takes long": "slow",
    "long time": "slow",
    "loads forever": "slow",
    "error rate": "errorrate",
    "error rates": "errorrate",
    "failure rate": "errorrate",
    "taking forever": "slow",
    "circuit breaker": "circuitbreaker",
    "circuit breakers": "circuitbreaker",
    "crash loop": "crash",
    "segmentation fault": "crash",
    "core dumped": "crash",
    "no progress": "stuck",
    "not progressing": "stuck",
    "empty response": "empty",
    "empty responses": "empty",
    "no results": "empty",
    "back off restarting": "crash restart",
    "back-off restarting": "crash restart",
    "same alert": "noisy alert",
    "too many alerts": "noisy alert",
    "too many alarms": "noisy alert",
    "too many pages": "noisy alert",
    "duplicate alerts": "noisy alert",
    "repeated alerts": "noisy alert",
    "clears itself": "noisy",
    "resolves itself": "noisy",
    "resolved itself": "noisy",
    "already resolved": "noisy",
    "false positive": "noisy alert",
    "false positives": "noisy alert",
    "false alarm": "noisy alert",
    "false alarms": "noisy alert",
    # alerts that clear on their own: "300 alert emails overnight, all resolved by themselves"
    "resolved by themselves": "noisy alert",
    "resolve by themselves": "noisy alert",
    "resolve themselves": "noisy alert",
    "resolved themselves": "noisy alert",
    "auto resolved": "noisy alert",
    "self resolving": "noisy alert",
    # an alert about a service that is fine: "the uptime alert fires every night though the site is fine"
    "though the site is fine": "noisy alert",
    "but the site is fine": "noisy alert",
    "though the service is fine": "noisy alert",
    "but the service is fine": "noisy alert",
    "but everything is fine": "noisy alert",
    "though everything is fine": "noisy alert",
    "false alert": "noisy alert",
    "false alerts": "noisy alert",
    "too sensitive": "noisy",
    "less sensitive": "noisy",
    "oversensitive": "noisy",
    "flapping alert": "noisy alert",
    "flapping alerts": "noisy alert",
    "alerts flapping": "noisy alert",
    "alert fatigue": "noisy alert",
    "api key": "apikey",
    "api keys": "apikey",
    "x-api-key": "apikey",
    "env var": "env",
    "env vars": "env",
    "environment variable": "env",
    "environment variables": "env",
    "github actions": "githubactions",
    "cloud run": "cloudrun",
    "cloud build": "cloudbuild",
    "signed url": "signedurl",
    "signed urls": "signedurl",
    "presigned url": "signedurl",
    "read replica": "replica",
    "seconds behind master": "replica lag",  # MySQL's replication delay
    "seconds_behind_master": "replica lag",
    "health check": "health",
    "health checks": "health",
    "readiness probe": "health",
    "liveness probe": "health",
    "wont start": "startup fail",
    "will not start": "startup fail",
    "fails to start": "startup fail",
    "failed to start": "startup fail",
    "doesnt start": "startup fail",
    "not starting": "startup fail",
    # when it happens: "ModuleNotFoundError on starting celery worker", "crashes on start"
    "on start": "startup",
    "on starting": "startup",
    "when starting": "startup",
    "at start": "startup",
    "not being processed": "stuck",
    "not processed": "stuck",
    "not picking up": "stuck",
    "not being picked up": "stuck",
    "not picked up": "stuck",
    "never picked up": "stuck",
    # a session ended ("users get logged out"), not the logs: "out" alone is a stopword
    "logged out": "logout",
    "log out": "logout",
    "logs out": "logout",
    "logging out": "logout",
    "signed out": "logout",
    "sign out": "logout",
    "kicked out": "logout",
    # a worker that stops taking work: "Celery workers stop consuming tasks", "consumer stopped processing messages"
    "stop consuming": "stuck",
    "stops consuming": "stuck",
    "stopped consuming": "stuck",
    "stop processing": "stuck",
    "stops processing": "stuck",
    "stopped processing": "stuck",
    "stop receiving tasks": "stuck task",
    "stops receiving tasks": "stuck task",
    "stopped receiving tasks": "stuck task",
    "not delivered": "undelivered",
    "not sent": "notsent",
    "never sent": "notsent",
    "not being sent": "notsent",
    "doesnt send": "notsent",
    "does not send": "notsent",
    "didnt send": "notsent",
    "not arriving": "notsent",
    "not triggering": "notsent",
    "not firing": "notsent",
    "never fires": "notsent",
    "did not fire": "notsent",
    "didnt fire": "notsent",
    "not received": "notsent",
    "no alert notifications": "alert notsent",
    "no notifications": "alert notsent",
    "no notification": "alert notsent",
    "not being delivered": "undelivered",
    "service mesh": "mesh",
    "network policy": "networkpolicy",
    "network policies": "networkpolicy",
    "query plan": "queryplan",
    "slow query": "slow query",
    "slow queries": "slow query",
    "memory usage": "memory",
    "memory leak": "memory leak",
    "memory leaks": "memory leak",
    "cpu usage": "cpu",
    "high cpu": "cpu",
    "load average": "cpu overload",  # mentioned when it is above the cores
    "stack trace": "exception",
    "most recent call last": "exception",
    "n+1": "query",
    "cluster.local": "k8s dns",
    "eai_again": "dns",
    "i/o timeout": "timeout",
    "auto-resolved": "noisy",
    "auto-closed": "noisy",
    "load shedding": "overload",
    "exit code": "crash",
    "exited with": "crash",
    "does not exist": "notexist",
    "doesnt exist": "notexist",
    "do not exist": "notexist",
    "not exist": "notexist",
    "no such": "notexist",
    "not found": "notfound",
    "for hours": "longrun",
    "for days": "longrun",
    "for weeks": "longrun",
    "rolling update": "deploy",
    "rolling updates": "deploy",
    "rolling deploy": "deploy",
    # urllib3's per-host pool (HTTPSConnectionPool(host=...)) names the client, not a database pool.
    "https connection pool": "",
    "http connection pool": "",
    "cold start": "coldstart",
    "cold starts": "coldstart",
}

# Single words folded into a concept (the key is the word as typed, lowercased).
WORDS: dict[str, str] = {}
_GROUPS: dict[str, list[str]] = {
    "slow": ["slow", "slowness", "slower", "sluggish", "laggy", "latency", "latencies", "p95", "p99", "p90",
             "p50", "lagging", "sloooow", "slooow", "crawling", "crawl", "slowdown", "snail", "delay", "delays",
             "delayed"],
    "4xx": ["4xx", "4xxs", "400", "400s", "404", "404s", "409", "422", "422s"],
    "exception": ["exception", "exceptions", "traceback", "stacktrace", "unhandled", "uncaught"],
    "query": ["query", "queries", "select", "selects", "statement", "statements", "sql"],
    "overload": ["overload", "overloaded", "overwhelmed", "saturated", "saturation", "shedding"],
    "timeout": ["timeout", "timeouts", "deadline", "deadlineexceeded", "etimedout"],
    "stuck": ["stuck", "hang", "hangs", "hanging", "hung", "frozen", "stalled", "stall", "wedged"],
    "crash": ["crash", "crashes", "crashed", "crashing", "crashloop", "crashloops", "crashlooping", "crashlooped",
              "crashloopbackoff", "segfault", "sigsegv", "panic", "panics", "panicked", "exited"],
    "restart": ["restart", "restarts", "restarting", "restarted", "bounce", "bouncing", "reboot"],
    "oom": ["oom", "oomkilled", "oomkill", "oomkilling", "oomkiller", "137"],
    "memory": ["memory", "mem", "ram", "heap", "rss", "gib", "mib"],
    "leak": ["leak", "leaks", "leaking", "leaky", "leaked"],
    "cpu": ["cpu", "cpus", "vcpu", "vcpus", "throttling", "throttled", "cores", "loadavg", "flamegraph", "profiler"],
    "db": ["db", "database", "databases", "postgres", "postgre", "postgresql", "pg", "psql", "psycopg2",
           "psycopg", "asyncpg", "sqlalchemy", "sqlite", "rds"],
    "conn": ["connection", "connections", "conn", "conns", "connect", "connecting", "connectivity",
             "connected"],
    "pool": ["pool", "pooling", "pooled", "queuepool", "pgbouncer", "pgxpool", "hikari", "hikaricp"],
    "connlimit": ["connlimit"],
    "5xx": ["5xx", "5xxs", "500", "500s", "502", "502s", "internalservererror"],
    "503": ["503", "503s", "unavailable"],
    "504": ["504", "504s"],
    "unauthorized": ["401", "401s", "unauthorized", "unauthenticated", "unauthorised"],
    "forbidden": ["403", "403s", "forbidden", "rbac"],
    "jwt": ["jwt", "jwts", "jws", "jose", "pyjwt", "bearer"],
    "token": ["token", "tokens"],
    "logout": ["logout", "logouts", "logoff", "signout"],
    "cert": ["cert", "certs", "certificate", "certificates", "ssl", "tls", "x509", "https", "letsencrypt",
             "certmanager"],
    "expired": ["expired", "expiry", "expires", "expiring", "expiration"],
    "dns": ["dns", "nxdomain", "resolution", "nslookup", "dig",
            "coredns", "kubedns", "servfail"],
    "deploy": ["deploy", "deploys", "deployment", "deployments", "deployed", "deploying", "rollout",
               "rollouts", "release", "released", "redeploy", "revision", "revisions"],
    "k8s": ["kubernetes", "k8s", "kube", "pod", "pods", "kubectl", "kubelet"],
    "upload": ["upload", "uploads", "uploading", "uploaded", "putobject"],
    "bucket": ["bucket", "buckets", "gcs", "gsutil", "blob", "blobs"],
    "s3": ["s3", "boto3", "botocore"],
    "metrics": ["metrics", "metric", "grafana", "dashboard", "dashboards", "scrape", "scraping", "scraped",
                "exporter", "telemetry"],
    "alert": ["alert", "alerts", "alerting", "alertmanager", "paged", "paging", "pager", "pagerduty",
              "firing", "notification", "notifications", "alarm", "alarms"],
    "noisy": ["noisy", "noise", "fatigue", "twitchy", "flood", "floods",
              "flooding", "storm", "blips", "autoresolved"],
    "celery": ["celery", "kombu", "beat"],
    "queue": ["queue", "queues", "queued", "backlog", "enqueued"],
    "task": ["task", "tasks", "job", "jobs"],
    "redis": ["redis", "redis-py"],
    "ratelimit": ["ratelimit", "429", "429s", "throttle", "ratelimited"],
    "quota": ["quota", "quotas"],
    "webhook": ["webhook", "webhooks", "callback", "callbacks", "hook", "hooks"],
    "signature": ["signature", "signatures", "hmac", "sig"],
    "migration": ["migration", "migrations", "migrate", "alembic", "schema"],
    "portinuse": ["portinuse"],
    "importerror": ["importerror", "import"],
    "env": ["env", "dotenv", "envvar", "envvars", "getenv", "environ"],
    "bigquery": ["bigquery", "bq"],
    "gemini": ["gemini", "llm", "genai", "generativelanguage", "vertex"],
    "replica": ["replica", "replicas", "replication", "standby", "replicating", "wal"],
    "health": ["health", "healthcheck", "healthchecks", "healthz", "readyz", "liveness", "readiness",
               "unhealthy"],
    "shutdown": ["shutdown", "sigterm", "graceful", "gracefully", "terminating", "drain", "draining"],
    "startup": ["startup", "boot", "booting"],
    "network": ["network", "networking", "mesh", "istio", "envoy", "sidecar", "linkerd", "mtls"],
    "worker": ["worker", "workers", "wrangler", "cloudflare"],
    "credentials": ["credentials", "credential", "creds"],
    "empty": ["empty", "blank"],
}  # fmt: skip
for _concept, _words in _GROUPS.items():
    for _word in _words:
        WORDS[_word] = _concept
WORDS["longrun"] = "longrun"  # produced by durations of an hour or more (see below)
for _folded in PHRASES.values():  # concept words produced by phrases are final: never stemmed
    for _word in _folded.split():
        WORDS.setdefault(_word, _word)

# Words that carry no signal for choosing a playbook (apostrophes are dropped before lookup: "doesn't" -> doesnt).
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "to", "of", "in", "on", "at", "by", "for", "from", "with", "without", "into", "onto", "over", "under", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "doing", "have", "has", "had", "having", "it", "its", "this", "that", "these", "those", "there", "here", "we", "you", "i", "me", "my", "our", "your", "they", "them", "he", "she", "his", "her", "us", "what", "which", "who", "whom", "when", "where", "why", "how", "all", "any", "some", "no", "not", "nor", "only", "own", "same", "too", "very", "can", "could", "should", "would", "will", "just", "also", "again", "still", "yet", "now", "since", "after", "before", "while", "about", "up", "down", "out", "off", "get", "got", "getting", "seems", "seem", "seeing", "see", "saw", "keep", "keeps", "kept", "anyone", "someone", "something", "anything", "everyone", "everything", "please", "hi", "hey", "hello", "thanks", "thank", "help", "issue", "issues", "problem", "problems", "doesnt", "dont", "didnt", "isnt", "arent", "wasnt", "werent", "cant", "couldnt", "wont", "wouldnt", "shouldnt", "im", "ive", "youre", "weve", "happening", "happened", "started", "start", "going", "went", "like", "really", "today", "yesterday", "right", "ago", "utc", "minutes", "minute", "hours", "hour", "mins", "min", "sec", "seconds", "secs", "lot", "lots", "many", "much", "more", "most", "less", "high", "higher", "highest", "low", "lower", "increase", "increased", "increasing", "spike", "spiking", "spiked", "huge", "big", "massive",
     # the scaffolding of issue templates and chat: "Describe the bug", "Steps to reproduce", "Expected behavior"
     "describe", "bug", "steps", "reproduce", "expected", "behavior", "behaviour", "actual", "additional",
     "context", "screenshot", "screenshots", "version", "versions", "details", "using", "used", "tried", "trying",
     "try", "guys", "anybody", "somebody", "idea", "ideas", "happens", "occurs", "occurred", "sometimes"]
)  # fmt: skip


# --- Quantities: a number with a unit says what kind of trouble it is -----------------------------------------------
# "4500ms+", "takes 7 seconds", "timeout of 120000ms exceeded", "CPU at 95%", "512Mi": the matcher reads durations as
# latency (or, from an hour up, as 'longrun': something running or waiting for hours), high percentages as saturation and sizes as memory.
SLOW_FROM_SECONDS = (
    0.5  # a request that takes longer than this is slow in every guide (p95 > 200 ms ... > 5 s)
)
HOURS_FROM_SECONDS = 3600.0
SATURATED_FROM_PERCENT = 80.0  # the guides' "CPU usage > 80%", "Memory usage > 80%"
DURATION_UNITS: dict[str, float] = {
    "ms": 0.001, "msec": 0.001, "msecs": 0.001, "millis": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "day": 86400.0, "days": 86400.0, "week": 604800.0, "weeks": 604800.0,
}  # fmt: skip
SIZE_UNITS = frozenset(["kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "ki", "mi", "gi", "ti"])
# Words before a size that make it the size of a thing, not memory: "a PNG over 10MB", "upload of 2 GB".
THING_WORDS = frozenset(
    [
        "file",
        "files",
        "upload",
        "uploading",
        "uploads",
        "image",
        "images",
        "png",
        "jpg",
        "jpeg",
        "photo",
        "video",
        "attachment",
        "body",
        "payload",
        "download",
        "object",
        "objects",
        "disk",
        "bucket",
    ]
)
# Words before a duration that make it an interval, not a delay: "every 10 seconds", "retry in 1 second".
# Words before a duration that make it a limit that was hit: "timeout of 120000ms exceeded", "deadline 30s".
LIMIT_WORDS = frozenset(["timeout", "timeouts", "deadline", "exceeded", "timed"])
# Words before a duration of hours that make it a wait, not only something running long: "the export takes 2 hours".
WAITING_WORDS = frozenset(
    ["take", "takes", "taking", "took", "wait", "waiting", "waited", "load", "loads", "loading"]
)
INTERVAL_WORDS = frozenset(
    ["every", "each", "per", "interval", "retry", "retrying", "within", "ttl", "expires", "after"]
)

# HTTP status codes that name a playbook's trouble: each also yields its own term ("http429"), more precise than the
# concept it folds into ("429" and "too many requests" are both 'ratelimit', but only one is the code).
STATUS_CODES = frozenset(
    ["400", "401", "403", "404", "408", "422", "429", "500", "502", "503", "504", "520", "521", "522", "524"]
)
# A code followed by one of these is a count ("500 concurrent users", "400 SELECTs per request"), not a status.
COUNTED = frozenset(
    ["users", "concurrent", "requests", "connections", "clients", "rows", "records", "items", "times", "pods",
     "nodes", "queries", "selects", "messages", "jobs", "tasks", "files", "events", "rps", "qps", "lines",
     "threads", "workers", "calls", "objects", "images", "entries", "per"]
)  # fmt: skip

# --- Typos of key words -------------------------------------------------------------------------------------------
# A word of 6+ letters one insertion, deletion or swap of neighbours away from exactly one concept word of 6+ letters
# is read as that word ("timout", "conection", "certficate", "databse"). Substitutions and edits of the last letter
# are not folded: they turn real words into other real words ("worked"/"worker", "unload"/"upload",
# "healthy"/"health", "resolved"/"resolve"). Real words one edit away otherwise are listed here.
TYPO_MIN_LENGTH = 6
NOT_TYPOS = frozenset(
    ["cashing", "profile", "profiles", "bouncer", "bouncers", "healthy", "resolved", "pooled", "hooked", "queued"]
)  # fmt: skip

# --- Library error texts ------------------------------------------------------------------------------------------
# Exception and error-code names that libraries print, folded into the concepts they mean. Matched as whole words
# after camelCase splitting is undone (the key is the name lowercased, without dots).
LIBRARY_ERRORS: dict[str, str] = {
    "operationalerror": "db",
    "undefinedvalueerror": "env",  # python-decouple: a setting missing from the environment and .env
    "sequelizeconnectionacquiretimeouterror": "connlimit",
    "workerlosterror": "oom",  # Celery: the pool's process was killed, as a rule by the kernel for its memory
    "toomanyconnectionserror": "connlimit",
    "queuepool": "connlimit pool",  # SQLAlchemy's pool, named in its "QueuePool limit ... reached" error
    "timeouterror": "timeout",
    "connectionrefusederror": "connrefused",
    "connectionreseterror": "connreset",
    "connectionerror": "conn",
    "nocredentialserror": "credentials",
    "partialcredentialserror": "credentials",
    "invalidaccesskeyid": "credentials",
    "signaturedoesnotmatch": "signature credentials",
    "nosuchbucket": "bucket notexist",
    "nosuchkey": "notexist",
    "accessdenied": "forbidden",
    "not allowed": "forbidden",
    "insufficient permissions": "forbidden",
    "insufficient permission": "forbidden",
    "does not have permission": "forbidden",
    "doesnt have permission": "forbidden",
    "missing permission": "forbidden",
    "missing permissions": "forbidden",
    "not permitted": "forbidden",
    "permissiondenied": "forbidden",
    "resourceexhausted": "ratelimit quota",
    "unauthenticated": "unauthorized",
    "invalidcatalognameerror": "db notexist",
    "expiredsignatureerror": "jwt expired",
    "expiredjwtexception": "jwt expired",
    "invalidaudienceerror": "jwt audience",
    "securitytokeninvalidaudienceexception": "jwt audience",
    "invalidtokenerror": "jwt token",
    "invalidsignatureerror": "jwt signature",
    "outofmemoryerror": "oom",
    "memoryerror": "oom",
    "deadlineexceeded": "timeout",
    "readtimeout": "timeout",
    "connecttimeout": "timeout",
    "readtimeouterror": "timeout",
    "gaierror": "dns",
    "modulenotfounderror": "importerror",
}
for _folded in LIBRARY_ERRORS.values():
    for _word in _folded.split():
        WORDS.setdefault(_word, _word)

# Every concept term: words that carry incident meaning wherever they appear.
CONCEPTS = frozenset(WORDS.values())

# --- Something is wrong -------------------------------------------------------------------------------------------
# An incident report says that something is wrong; a text that only names things ("Release v2.3.0", "the recommended
# pool size for PostgreSQL", "S3 bill tripled") does not, however well its nouns fit a playbook. Concepts that are
# trouble in themselves, and plain words (read before stopwords are dropped) that say trouble of any kind.
SYMPTOM_CONCEPTS = frozenset(
    ["4xx", "503", "504", "5xx", "connlimit", "connrefused", "connreset", "crash", "dns", "empty", "errorrate",
     "exception", "expired", "fail", "forbidden", "importerror", "leak", "longrun", "noisy", "notexist", "notfound",
     "notsent", "oom", "overload", "portinuse", "ratelimit", "restart", "slow", "stuck", "timeout", "unauthorized",
     "undelivered", "unresponsive", "coldstart", "logout"]
)  # fmt: skip
SYMPTOM_WORDS = frozenset(
    ["error", "errors", "err", "fail", "fails", "failed", "failing", "failure", "failures", "broken", "break", "breaks",
     "down", "dead", "cannot", "cant", "unable", "wrong", "lost", "losing", "missing", "drop", "drops", "dropped",
     "dropping", "refused", "refuses", "denied", "invalid", "reject", "rejected", "rejects", "exceeded", "exceeds",
     "exhausted", "killed", "kill", "outage", "degraded", "degradation", "regression", "regressed", "unhealthy", "unreachable", "fatal", "critical", "never",
     "stopped", "stops", "lag", "lags", "lagging", "behind", "high", "higher", "spike", "spikes", "spiking", "spiked",
     "increase", "increased", "increasing", "growing", "grows", "climbing", "too", "nothing", "gone", "mismatch",
     "unknown", "abort", "aborted", "terminated", "evicted", "throttled", "pegged", "pinned", "maxed", "flapping",
     "flaps", "doesnt", "isnt", "wont", "didnt", "cant", "couldnt", "not", "no", "none", "null", "empty", "blank",
     "warn", "warning", "die", "dies", "died", "dying", "blow", "blows", "stale", "forever", "swap", "swapping",
     "false", "pending", "exit", "exits", "stop", "lose", "freeze", "freezes", "slowly", "endless", "again", "only",
     "blocked", "unusable", "unusably", "disappeared", "vanished", "incorrect", "incorrectly", "intermittent",
     "intermittently", "sporadic", "sporadically", "flaky", "unstable", "freezing", "stalls", "choking", "struggling",
     "skipped", "skipping", "duplicate", "duplicated", "corrupted", "corrupt", "jammed"]
)  # fmt: skip

# Incident words of Chinese, Japanese and Korean reports, in English: these languages write no spaces between
# words, so without this a report in them is read by its Latin words alone ("上传错误 ... bucket不存在": only
# "bucket"). Longer entries win over the shorter ones they contain ("拒绝连接" over "拒绝").
TRANSLATIONS: dict[str, str] = {
    # Chinese (simplified, and traditional where it differs)
    "错误": "error", "錯誤": "error", "报错": "error", "報錯": "error", "出错": "error", "出錯": "error",
    "异常": "exception", "異常": "exception", "失败": "failed", "失敗": "failed", "超时": "timeout",
    "超時": "timeout", "连接": "connection", "連接": "connection", "连不上": "cannot connect",
    "拒绝连接": "connection refused", "拒絕連接": "connection refused", "拒绝访问": "access denied",
    "拒絕訪問": "access denied", "拒绝": "refused", "拒絕": "refused", "无法": "cannot", "無法": "cannot",
    "不能": "cannot", "上传": "upload", "上傳": "upload", "下载": "download", "下載": "download",
    "内存溢出": "out of memory", "內存溢出": "out of memory", "内存": "memory", "內存": "memory",
    "記憶體": "memory", "泄漏": "leak", "泄露": "leak", "洩漏": "leak", "崩溃": "crash", "崩潰": "crash",
    "闪退": "crash", "閃退": "crash", "重启": "restart", "重啟": "restart", "缓慢": "slow", "緩慢": "slow",
    "很慢": "slow", "变慢": "slow", "變慢": "slow", "卡顿": "slow", "延迟": "latency", "延遲": "latency",
    "卡住": "stuck", "卡死": "stuck", "假死": "hang", "权限": "permission", "權限": "permission",
    "未授权": "unauthorized", "未授權": "unauthorized", "认证": "authentication", "認證": "authentication",
    "令牌": "token", "证书": "certificate", "證書": "certificate", "过期": "expired", "過期": "expired",
    "数据库": "database", "數據庫": "database", "資料庫": "database", "部署": "deploy", "回滚": "rollback",
    "回滾": "rollback", "网络": "network", "網絡": "network", "網路": "network", "不通": "unreachable",
    "域名解析": "dns resolution", "端口": "port", "被占用": "in use", "不可用": "unavailable",
    "宕机": "down", "當機": "down", "无响应": "not responding", "無響應": "not responding",
    "没有响应": "not responding", "沒有響應": "not responding", "限流": "rate limit", "配额": "quota",
    "配額": "quota", "额度": "quota", "額度": "quota", "超额": "quota exceeded", "超額": "quota exceeded",
    "队列": "queue", "隊列": "queue", "磁盘": "disk", "磁碟": "disk", "日志": "log", "日誌": "log",
    "告警": "alert", "报警": "alert", "報警": "alert", "存储桶": "bucket", "儲存桶": "bucket",
    "不存在": "not found", "找不到": "not found", "密钥": "key", "密鑰": "key", "签名": "signature",
    "簽名": "signature", "迁移": "migration", "遷移": "migration", "健康检查": "health check",
    "健康檢查": "health check", "空返回": "empty response", "空响应": "empty response", "空響應": "empty response",
    "返回为空": "returned empty", "返回為空": "returned empty", "没有数据": "no data", "沒有數據": "no data",
    "无数据": "no data", "無數據": "no data", "响应非常慢": "slow response", "非常慢": "slow", "特别慢": "slow",
    # Japanese
    "エラー": "error", "タイムアウト": "timeout", "接続": "connection", "拒否": "refused", "メモリ": "memory",
    "遅い": "slow", "遅延": "latency", "再起動": "restart", "クラッシュ": "crash", "権限": "permission",
    "証明書": "certificate", "期限切れ": "expired", "デプロイ": "deploy", "アップロード": "upload",
    "データベース": "database", "応答なし": "not responding",
    # Korean
    "오류": "error", "에러": "error", "실패": "failed", "시간 초과": "timeout", "타임아웃": "timeout",
    "연결": "connection", "거부": "refused", "메모리": "memory", "느림": "slow", "지연": "latency",
    "재시작": "restart", "충돌": "crash", "권한": "permission", "인증서": "certificate", "만료": "expired",
    "배포": "deploy", "업로드": "upload", "데이터베이스": "database", "속도 저하": "slow", "느려": "slow",
    "느립니다": "slow", "늦": "slow", "응답": "response",
}  # fmt: skip
_FOREIGN_WORD = re.compile("|".join(sorted(map(re.escape, TRANSLATIONS), key=len, reverse=True)))


def in_english(text: str) -> str:
    """The text with its Chinese, Japanese and Korean incident words in English (an ASCII text as it is)."""
    if text.isascii():
        return text
    return _FOREIGN_WORD.sub(lambda word: f" {TRANSLATIONS[word.group(0)]} ", text)
