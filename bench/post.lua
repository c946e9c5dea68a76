-- wrk: POST a 4 KiB body that the handler reads to the end.
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
