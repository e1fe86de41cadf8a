"""The error strings the guides' systems print (libraries, proxies, Kubernetes, Google Cloud, the APIs the
services call), and the short lines on-call engineers write about the same troubles, each match a playbook that
is right for them, as written, with no other words around them.

Written from the systems' own messages, not from the evaluation sets: a message that stops matching its
playbook is a regression a person pasting it at 3 a.m. would meet. Each case names the playbooks that are right
for it (a regular expression over playbook ids: the same message can fit several guides' playbooks)."""

from __future__ import annotations

import re

import pytest

from bot.matcher import Matcher

CASES: dict[str, list[str]] = {
    "connection-pool": [
        "psycopg2.pool.PoolError: connection pool exhausted",
        "HikariPool-1 - Connection is not available, request timed out after 30000ms",
        "Timeout waiting for connection from pool",
        "Cannot acquire connection from pool",
        "pool exhausted",
        "FATAL: remaining connection slots are reserved for non-replication superuser connections",
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached",
        "Too many connections",
        "could not obtain a connection from the pool within 30 seconds",
        "connection pool exhausted",
        "all connections in the pool are in use",
        "ActiveRecord::ConnectionTimeoutError: could not obtain a connection from the pool within 5.000 seconds",
        "pq: sorry, too many clients already",
        "SequelizeConnectionAcquireTimeoutError: Operation timeout",
        "Knex: Timeout acquiring a connection. The pool is probably full.",
        "TimeoutError: ResourceRequest timed out",
    ],
    "dns": [
        "dial tcp: lookup postgres on 10.96.0.10:53: no such host",
        "Temporary failure in name resolution",
        "getaddrinfo EAI_AGAIN api.internal",
        "getaddrinfo ENOTFOUND db.internal",
        "dial tcp: lookup db on 10.96.0.10:53: no such host",
        "curl: (6) Could not resolve host: api.internal",
        "socket.gaierror: [Errno -2] Name or service not known",
    ],
    "ssl-tls": [
        "x509: certificate has expired or is not yet valid",
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate",
        "SSL: CERTIFICATE_VERIFY_FAILED certificate verify failed: certificate has expired",
        "x509: certificate signed by unknown authority",
        "unable to get local issuer certificate",
        "self signed certificate in certificate chain",
        "SSL routines:ssl3_get_record:wrong version number",
        "tlsv1 alert protocol version",
        "ERR_SSL_PROTOCOL_ERROR",
        "NET::ERR_CERT_DATE_INVALID",
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        "sslv3 alert handshake failure",
        "certificate expired on api.example.com",
        "ERR_CERT_COMMON_NAME_INVALID",
        "SSL handshake failed",
        "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path",
        "javax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure",
        "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        "x509: certificate is valid for api.example.com, not www.example.com",
    ],
    "redis-connection-refused": [
        "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
        "Error 111 connecting to localhost:6379. Connection refused.",
        "connect ECONNREFUSED 127.0.0.1:6379",
        "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379",
        "NOAUTH Authentication required.",
        "Redis connection to redis:6379 failed - connect ECONNREFUSED",
    ],
    "celery-workers-not-starting": [
        "consumer: Cannot connect to amqp://guest:**@rabbitmq:5672//: [Errno 111] Connection refused",
        "kombu.exceptions.OperationalError: [Errno 111] Connection refused",
        "celery worker fails to start: Cannot connect to amqp://guest@localhost:5672//",
    ],
    "memory": [
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        "java.lang.OutOfMemoryError: Java heap space",
        "Memory cgroup out of memory: Killed process 1234 (python)",
        "Last State: Terminated Reason: OOMKilled Exit Code: 137",
        "MemoryError",
        "Container killed due to memory usage",
        "Memory limit of 512 MiB exceeded with 623 MiB used. Consider increasing the memory limit",
        "worker exited prematurely: signal 9 (SIGKILL)",
        "container restarted, reason OOMKilled",
        "memory usage keeps growing until the pod is killed",
        "fatal error: runtime: out of memory",
        "terminate called after throwing an instance of 'std::bad_alloc'",
        "Killed (exit code 137)",
        "memory keeps climbing on the pipeline api until OOMKilled",
        "celery worker RSS grows to 3GB",
    ],
    "crash|won-t-start": [
        "Back-off restarting failed container",
        "pod is in CrashLoopBackOff",
        "Error: failed to create containerd task: failed to start container",
        "Error: container has runAsNonRoot and image will run as root",
        'CreateContainerConfigError: secret "db-creds" not found',
        "ImagePullBackOff: Back-off pulling image",
        "pod restarting every few minutes",
    ],
    "503|unavailable": [
        "no healthy upstream",
        "503 Service Temporarily Unavailable",
    ],
    "5xx-errors|high-error-rate": [
        "502 Bad Gateway",
        "upstream prematurely closed connection while reading response header from upstream",
        "recv() failed (104: Connection reset by peer) while reading response header from upstream",
        "HTTP 500 Internal Server Error on every request",
        "spike of 500s after the deploy",
        "error rate at 12% on checkout",
    ],
    "timeout|latency|slow-response|slow-api": [
        "504 Gateway Time-out",
        "upstream request timeout",
        "upstream timed out (110: Connection timed out) while reading response header from upstream",
        "requests time out after 30 s at the gateway",
        "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
        "dial tcp 10.0.0.9:8080: i/o timeout",  # Go connecting to an address (on port 53 it is DNS)
    ],
    "port-already-in-use|won-t-start": [
        "Error: listen EADDRINUSE: address already in use :::3000",
        "OSError: [Errno 98] Address already in use",
        "Bind for 0.0.0.0:8000 failed: port is already allocated",
        "[Errno 48] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
        "ERROR: [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
        "port 8000 is already in use",
    ],
    "import-errors": [
        "ModuleNotFoundError: No module named 'app'",
        "ImportError: cannot import name 'x' from 'y'",
        "ModuleNotFoundError: No module named 'celery'",
        "ImportError: No module named app",  # Python 2's wording, still printed by old images
    ],
    "migration": [
        "alembic.util.exc.CommandError: Can't locate revision identified by 'abc123'",
        "Target database is not up to date.",
        "Multiple head revisions are present for given argument 'head'",
        'psycopg2.errors.DuplicateTable: relation "users" already exists',
        "alembic upgrade head fails",
        "alembic.util.exc.CommandError: Target database is not up to date.",
        "alembic: Can't locate revision identified by '1a2b3c4d'",
    ],
    "s3-access-denied|file-upload|cannot-upload": [
        "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
        "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
        "An error occurred (NoSuchBucket) when calling the PutObject operation",
        "InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records",
        "413 Request Entity Too Large on upload",
        "google.api_core.exceptions.Forbidden: 403 POST https://storage.googleapis.com/upload/storage/v1/b/photos/o?uploadType=multipart: caller does not have storage.objects.create access",
    ],
    "cannot-upload|signed-url": [
        "does not have storage.objects.create access to the Google Cloud Storage object",
        "403 POST https://storage.googleapis.com/upload/storage/v1/b/bucket/o: caller does not have storage.objects.create access",
    ],
    "bigquery": [
        "google.api_core.exceptions.Forbidden: 403 Quota exceeded: Your project exceeded quota for free query bytes scanned",
        "404 Not found: Table proj:ds.tbl was not found in location US",
        "Access Denied: Table proj:ds.tbl: User does not have permission to query table",
        "Resources exceeded during query execution",
        "Exceeded rate limits: too many table update operations for this table",
        "google.api_core.exceptions.NotFound: 404 Not found: Dataset my-project:analytics",
        "Quota exceeded: Your table exceeded quota for imports or query appends per table",
        "403 rateLimitExceeded: Exceeded rate limits: too many concurrent queries for this project_and_region",
        "BigQuery job failed: Quota exceeded",
        "bigquery table not found",
    ],
    "gemini": [
        "429 RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota)",
        "400 API key not valid. Please pass a valid API key. API_KEY_INVALID",
        "google.api_core.exceptions.PermissionDenied: 403 Generative Language API has not been used in project",
    ],
    "jwt": [
        "jwt.exceptions.ExpiredSignatureError: Signature has expired",
        "JsonWebTokenError: invalid signature",
        "TokenExpiredError: jwt expired",
        "InvalidTokenError: Invalid token specified",
    ],
    "webhook-signature": [
        "No signatures found matching the expected signature for payload",
        "Webhook signature verification failed",
        "X-Hub-Signature-256 mismatch",
        "stripe.error.SignatureVerificationError: No signatures found matching the expected signature for payload",
        "HMAC signature mismatch on incoming webhook",
    ],
    "environment-variables": [
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings database_url Field required",
        "KeyError: 'DATABASE_URL'",
        "environment variable DATABASE_URL is not set",
    ],
    "replication-lag": [
        "pg_stat_replication shows replay_lag of 00:12:30 on the replica",
        "canceling statement due to conflict with recovery",
        "replication lag is 45 seconds on the read replica",
        "Seconds_Behind_Master: 3600",
        "replica is 30 minutes behind the primary",
        "pg_stat_replication replay_lag 00:05:12",
        "replica lag 10 minutes",
        "stale reads from the read replica",
    ],
    "slow-queries|slow-database-queries": [
        "canceling statement due to statement timeout",
        "EXPLAIN shows Seq Scan on orders",
        "slow query log full of 5 s selects",
    ],
    "cloud-run-deployment": [
        "Revision 'api-00042-abc' is not ready and cannot serve traffic",
        "Cloud Run error: Container import failed",
        "Cloud Run revision failed to become ready",
        "Container failed to start. Failed to start and then listen on the port defined by the PORT environment variable.",
    ],
    "github-actions": [
        "google-github-actions/auth failed with: retry function failed after 3 attempts",
        "Error: google-github-actions/deploy-cloudrun failed with: failed to deploy",
        "GitHub Actions deploy job fails at the auth step",
        "workflow fails: Workload Identity Federation token exchange failed",
        "Permission 'run.services.get' denied on resource 'namespaces/acme/services/imgstream'",
    ],
    "worker-not-responding|slow-worker": [
        "Error 524: A timeout occurred",
        "the cloudflare edge worker times out and returns 524",
        "Error 1101: Worker threw exception",
        "Error 1102: Worker exceeded resource limits",
        "Script startup exceeded CPU time limit",
        "Error 522 connection timed out",
        "Error 1101 Worker threw exception",
        "Worker exceeded CPU time limit",
        "wrangler tail shows exceededCpu",
        "Cloudflare Worker returns 1101",
    ],
    "missing-metrics|no-metrics": [
        "Prometheus target down: context deadline exceeded",
        "Grafana panel shows No data",
        "server returned HTTP status 404 Not Found for /metrics scrape",
        "alerts not firing even though the error rate is 20%",
        "Prometheus target is DOWN: server returned HTTP status 503",
        "no data in Grafana since the upgrade",
    ],
    "slow-bigquery-queries": [
        "Query exceeded resource limits. This query used 1534 CPU seconds but would charge only 10M Billing Bytes",
    ],
    "pipeline-execution-failures": [
        "Airflow task failed: DAG run marked failed after 3 retries",
        "pipeline run failed with exit code 1",
    ],
    "pipeline-stuck-hanging": [
        "pipeline run stuck in RUNNING for 6 hours",
        "job has been in running state forever and never finishes",
    ],
    "graceful-shutdown-not-working": [
        "requests dropped during deploy: connection reset while pods terminate",
        "SIGTERM ignored, pod killed after terminationGracePeriodSeconds",
    ],
    "high-cpu-usage|cpu-saturation": [
        "CPU throttling at 100% of the limit, container_cpu_cfs_throttled_periods_total rising",
        "pods at 98% CPU",
    ],
    "failed-health-checks": [
        'Readiness probe failed: Get "http://10.0.0.5:8080/healthz": dial tcp 10.0.0.5:8080: connect: connection refused',
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        "Readiness probe failed: connection refused",
        # the kubelet's probe timing out: the health check failed, not a request of the service's own
        'Readiness probe failed: Get "http://10.0.0.5:8080/healthz": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)",
        'Liveness probe failed: Get "http://10.0.0.5:8080/livez": net/http: request canceled '
        "(Client.Timeout exceeded while awaiting headers)",
    ],
    "401-unauthorized-error|jwt": [
        "Invalid IAP credentials: JWT audience doesn't match this application",
        "There was a problem with your request. Error code 13 (IAP)",
        "Invalid IAP credentials: empty token",
    ],
    "signed-url": [
        "Error: Cannot sign data without `client_email`.",
        "The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.",
        "SigningError: Failed to sign the URL",
        "AttributeError: you need a private key to sign credentials.the credentials you are currently using <class 'google.auth.compute_engine.credentials.Credentials'> just contains a token",
    ],
    "database-connection-errors": [
        'duckdb.IOException: IO Error: Could not set lock on file "/data/app.duckdb": Resource temporarily unavailable',
        "sqlite3.OperationalError: database is locked",
        "sqlite3.OperationalError: unable to open database file",
        'duckdb.duckdb.IOException: IO Error: Cannot open file "data.duckdb": Permission denied',
    ],
    "alert-fatigue|false-positive": [
        "we got 300 alert emails overnight, all resolved by themselves",
        "PagerDuty paged 40 times overnight for the same flapping alert",
        "alert fires every night at 2am and resolves itself",
        "too many alerts tonight",
        "alert storm in #alerts",
    ],
    "gemini-api-rate-limiting": [
        "google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for quota metric 'Generate Content API requests per minute'",
        "429 Too Many Requests from generativelanguage.googleapis.com",
    ],
    "gemini-api-authentication": [
        "google.api_core.exceptions.InvalidArgument: 400 API key not valid. Please pass a valid API key.",
    ],
    "webhooks-not-being-delivered": [
        "webhook deliveries failing with timeout, receiver never gets the event",
        "Webhook endpoint disabled after too many failed deliveries",
    ],
    "tasks-not-being-processed": [
        "celery tasks stay in PENDING forever, no worker picks them up",
        "celery tasks stay PENDING forever",
        "Received unregistered task of type 'app.tasks.process'",
        "tasks queued but no worker picks them up",
    ],
    "api-key-authentication": [
        "401 Unauthorized: Invalid API key provided",
        "X-API-Key header missing, API returns 401",
        "X-API-Key rejected after key rotation",
    ],
    "dns|service-mesh": [
        "nslookup: can't resolve 'kubernetes.default'",
        "[ERROR] plugin/errors: 2 api.example.com. A: read udp 10.244.0.3:46086->8.8.8.8:53: i/o timeout",  # CoreDNS
        "SERVFAIL resolving api.default.svc.cluster.local",
        "NXDOMAIN for payments.svc.cluster.local",
        "java.net.UnknownHostException: db",
        "dial tcp: lookup redis on 127.0.0.11:53: server misbehaving",
        "Error: getaddrinfo ENOTFOUND postgres",
    ],
    "permission-denied-403": [
        'User "system:serviceaccount:arch-separation:default" cannot list resource "pods" in API group "" in the namespace "arch-separation"',
        "403 Forbidden: User does not have the required role admin",
        "RBAC: access denied",
    ],
    "latency|slow-response|slow-api|timeout": [
        "p99 latency above 2s on the api",
        "requests take 8 seconds",
        "API response times degraded since noon",
        "slow responses from the api",
        "Gateway Timeout from the ALB",
    ],
    "503|unavailable|failed-health": [
        'no endpoints available for service "api"',
        "Endpoints have no ready addresses",
        "503 from the load balancer",
    ],
    "cpu": [
        "CPUThrottlingHigh: 45% throttling of CPU in namespace arch-separation for container api-gateway",
        "CPU throttled on the api pods",
        "node CPU at 100% for an hour",
    ],
    "slow-queries|slow-database": [
        "missing index makes the orders query slow",
    ],
    # The text names no database, and the convergence guide's slow BigQuery section is "queries over 30 seconds".
    "slow-queries|slow-database|slow-bigquery": [
        "query takes 30 seconds on the orders table",
    ],
    "redis": [
        "Redis connection timed out",
        "Error: Redis connection to 127.0.0.1:6379 failed - connect ECONNREFUSED 127.0.0.1:6379",
        "dial tcp 127.0.0.1:6379: connect: connection refused",
        "Redis::CannotConnectError: Error connecting to Redis on localhost:6379 (Errno::ECONNREFUSED)",
        "io.lettuce.core.RedisConnectionException: Unable to connect to localhost:6379",
    ],
    "rate-limit|ratelimit": [
        "429 Too Many Requests from the Gemini API",
    ],
    "webhook": [
        "webhook signature verification failed",
        "webhooks not arriving at the receiver",
        "GitHub webhook: X-Hub-Signature-256 does not match",
        "Shopify webhook HMAC validation failed",
    ],
    "environment-variables|won-t-start": [
        "missing environment variable SECRET_KEY",
        "python-dotenv could not parse statement starting at line 3",
    ],
    "celery|tasks-not": [
        "celery worker not consuming tasks",
        "tasks stuck in the queue, workers idle",
    ],
    "upload|s3|signed": [
        "The specified bucket does not exist",
        "NoSuchBucket: The specified bucket does not exist",
    ],
    "metrics": [
        "metrics stopped showing up in Grafana",
        "Prometheus is not scraping the pods",
    ],
    "jwt|401": [
        "Invalid IAP credentials: JWT signature is invalid",
        "401 invalid token",
        "JWT expired for every user",
    ],
    "permission-denied-403|forbidden|s3": [
        "403 Forbidden for admins",
        "users get 403 on /admin",
    ],
    "database-connection": [
        'could not connect to server: Connection refused Is the server running on host "db" and accepting TCP/IP connections on port 5432?',
        'FATAL: database "app" does not exist',
        "SequelizeConnectionRefusedError: connect ECONNREFUSED 127.0.0.1:5432",
        "psycopg2.OperationalError: could not connect to server: Connection refused",
        "django.db.utils.OperationalError: could not connect to server: Connection refused",
        "PG::ConnectionBad: could not connect to server: Connection refused",
        "dial tcp 127.0.0.1:5432: connect: connection refused",
    ],
    "pipeline": [
        "pipeline run failed",
        "pipeline stuck in running",
    ],
    "graceful": [
        "502s during every rolling update",
        "in-flight requests dropped on deploy",
        "in-flight pipeline runs are killed on every deploy",
        "SIGTERM kills running jobs during rollout",
    ],
    "api-key": [
        '{"detail":"Invalid API Key"} on every call to /v1/pipelines',
        "API key authentication failing with 401",
        "invalid API key",
    ],
    "gemini-api-auth": [
        "Gemini API key rejected",
        "API_KEY_INVALID from Gemini",
    ],
    "analysis-results-empty": [
        "ValueError: The `response.text` quick accessor requires the response to contain a valid `Part`, but none were returned. The candidate's finish_reason is 2.",
        "finish_reason: SAFETY, the response has no text",
        "no highlights detected for the stream",
        "analysis returns zero highlights",
    ],
    "timeout|latency": [
        "httpx.ReadTimeout: timed out",
        "java.net.SocketTimeoutException: Read timed out",
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api', port=443): Read timed out. (read timeout=30)",
        "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
        "Error: connect ETIMEDOUT 10.0.0.12:443",
    ],
    "port-already-in-use|won-t-start|crash": [
        "java.net.BindException: Address already in use",
        "listen tcp :8080: bind: address already in use",
    ],
    "import-errors|won-t-start": [
        "ImportError: libGL.so.1: cannot open shared object file: No such file or directory",
        "ModuleNotFoundError: No module named 'pydantic_settings'",
    ],
    "crash|won-t-start|5xx": [
        "Segmentation fault (core dumped)",
    ],
    "permission-denied-403|s3|forbidden": [
        "403 Forbidden: You don't have permission to access this resource",
    ],
    "cloud-run|won-t-start": [
        "ERROR: (gcloud.run.deploy) Revision 'api-00012-xyz' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port",
    ],
    "gemini-api-rate": [
        "google.genai.errors.ClientError: 429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'You exceeded your current quota'}}",
    ],
    "s3": [
        "botocore.exceptions.ClientError: An error occurred (403) when calling the HeadObject operation: Forbidden",
        "An error occurred (InvalidAccessKeyId) when calling the ListObjects operation",
    ],
    "cloud-run-deployment|won-t-start": [
        "Ready condition status changed to False for Revision api-00007-abc with message: Container failed to start",
        "ERROR: (gcloud.run.deploy) The user-provided container failed the configured startup probe checks",
    ],
    "slow-response|coldstart|latency": [
        "Cloud Run cold start takes 10 seconds",
        "first request after idle takes 8s on Cloud Run",
    ],
    "cannot-upload|file-upload": [
        "google.api_core.exceptions.NotFound: 404 POST https://storage.googleapis.com/upload/storage/v1/b/photos/o: The specified bucket does not exist.",
    ],
    "signed-url|s3": [
        "SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided",
    ],
    "bigquery-query-errors": [
        "403 Quota exceeded: Your project exceeded quota for free query bytes scanned",
        "Exceeded rate limits: too many api requests per user per method for this user_method",
        "Query exceeded limit for bytes billed: 1000000. 2000000 or higher required.",
        "Cannot query over table 'ds.events' without a filter over column(s) 'ts' that can be used for partition elimination",
    ],
    "pipeline-execution-failures|memory": [
        "Task exited with return code Negsignal.SIGKILL",
    ],
    "pipeline-stuck": [
        "airflow task stuck in running state for 6 hours, no heartbeat",
        "pipeline has been running for 9 hours, normally 20 minutes",
    ],
    "high-cpu|cpu-saturation": [
        "CPU usage on the pipeline api is at 95%",
    ],
    "slow-bigquery": [
        "BigQuery queries are slow today, dashboards time out",
    ],
    "401-unauthorized|jwt": [
        "IAP returns 403 to a user who should have access",
        "users locked out of imgstream by IAP",
    ],
    "no-metrics|missing-metrics": [
        "Cloud Monitoring shows no data for the service",
        "alert policy never fired during the outage",
    ],
    "celery-workers-not-starting|redis-connection-refused": [
        "consumer: Cannot connect to redis://redis:6379/0: Error 111 connecting to redis:6379. Connection refused.",
    ],
    "gemini-api-authentication-failed": [
        "400 API key not valid. Please pass a valid API key.",
    ],
    "migration-failures": [
        "alembic.util.exc.CommandError: Can't locate revision identified by 'ae1027a6acf'",
        'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "highlights" does not exist',
    ],
    "environment-variables-not-loaded": [
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings DATABASE_URL Field required",
    ],
    "cloud-run-deployment-fails|service-won-t-start": [
        "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable",
        "ERROR: (gcloud.run.deploy) The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.",
    ],
    "high-memory-usage|memory": [
        "Memory limit of 512 MiB exceeded with 530 MiB used. Consider increasing the memory limit",
    ],
    "github-actions-deployment-fails": [
        "google-github-actions/auth failed with: retry function failed after 4 attempts: failed to generate Google Cloud federated token",
    ],
    "github-actions-deployment-fails|cloud-run-deployment": [
        'denied: Permission "artifactregistry.repositories.uploadArtifacts" denied on resource "projects/p/locations/us/repositories/r"',
    ],
    "slow-worker-performance|worker-not-responding": [
        "Error 1102 Worker exceeded resource limits",
    ],
    "database-connection|5xx": [
        'FATAL: password authentication failed for user "app"',
    ],
    "slow-bigquery|bigquery-query-errors": [
        "google.api_core.exceptions.BadRequest: 400 Resources exceeded during query execution: Not enough resources for query planning",
    ],
    "service-crashes|service-won-t-start": [
        "Back-off restarting failed container api in pod api-7d9f6b8c5-abc12",
    ],
    "file-upload-failures|cannot-upload": [
        "botocore.errorfactory.NoSuchBucket: An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist",
    ],
    "graceful-shutdown": [
        "[CRITICAL] WORKER TIMEOUT (pid:42) on SIGTERM during rolling update, in-flight requests dropped",
    ],
    "high-error-rate|5xx|high-error-rates": [
        "HTTP 500 rate above 5% for 10 minutes on checkout",
    ],
}


@pytest.mark.parametrize(
    ("right", "text"), [(right, text) for right, texts in CASES.items() for text in texts]
)
def test_a_known_error_string_matches_its_playbook(matcher: Matcher, right: str, text: str) -> None:
    result = matcher.match(text)
    assert result.best is not None, f"abstained on {text!r}: {[m.playbook.id for m in result.matches]}"
    assert re.search(right, result.best.playbook.id), f"{text!r} -> {result.best.playbook.id}"
