# Timestamps in shell scripts, CI steps and code: `date` and strftime format strings.
# `date -u` is date's UTC flag, not curl's `-u user:password`.
$ date -u +%Y-%m-%dT%H:%M:%S
2026-02-16T09:22:22
$ date -u +%Y-%m-%dT%H:%M:%S.%3NZ
2026-02-16T09:22:22.287Z
$ date -u +%H:%M:%S.%3N
09:22:22.287
$ date +%Y%m%d
20260216
$ date "+%Y-%m-%d %H:%M:%S"
2026-02-16 09:22:22
TS=$(date -u +%Y-%m-%dT%H:%M:%S.%3N);echo "deploy started $TS" >> deploy.log
STAMP=$(date -u +%Y-%m-%dT%H:%M:%S%:z)&&echo $STAMP
echo "built at $(date -u +%Y-%m-%dT%H:%M:%S.%6N)" > dist/BUILD_INFO
cp app.log "logs/app-$(date -u +%Y%m%dT%H%M%SZ).log"
pg_dump shop | gzip > /var/backups/shop-$(date +%Y%m%d_%H%M%S).sql.gz
git log --date=format:'%Y-%m-%d %H:%M' --pretty='%h %ad %s' -n 5
python3 -c 'import time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ"))'
started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
run_id = now.strftime('%Y%m%d-%H%M%S')
let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
<%= Calendar.strftime(ann.inserted_at, "%H:%M") %>
page_token: "+%Y%m%dT%H%M%S.%3N"
--token-stamp "%Y-%m-%dT%H%M%S" --password-changed-format "%Y%m%d-%H%M%S"
{"session_token_suffix": "%Y%m%d_%H%M%S.%f", "auth": "%Y-%m-%d_%H%M%S"}
