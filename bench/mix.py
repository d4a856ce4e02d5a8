#!/usr/bin/env python3
"""Adds changes to a data set that bench/generate.py made, so that a log holds more than
registrations: customer and contact edits, primary designations, notes and work orders with
their status changes, all through POST /v1/batch. Reads OUTDIR/customers.txt and sites.txt
(site i belongs to customer i % customers, as generate.py makes them).
Usage: mix.py URL KEY OUTDIR SCALE   (SCALE: customers touched; about 7 events per customer)"""
import http.client
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

url, key, outdir, scale = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
target = urlparse(url)
random.seed(11)
BATCH = 100
CONNECTIONS = 4
customers = open(outdir + "/customers.txt").read().split()
sites = open(outdir + "/sites.txt").read().split()


def batch(conn, commands):
    conn.request("POST", "/v1/batch", json.dumps({"commands": commands}),
                 {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    res = conn.getresponse()
    doc = json.loads(res.read())
    if res.status != 200:
        sys.exit("batch failed: %d %s" % (res.status, doc))
    out = []
    for r in doc["results"]:
        if r["status"] >= 300:
            sys.exit("a command failed: %s" % r)
        out.append(r["body"].get("id"))
    return out


def run_phase(name, commands):
    started = time.time()
    chunks = [commands[i:i + BATCH] for i in range(0, len(commands), BATCH)]
    conns = [http.client.HTTPConnection(target.hostname, target.port, timeout=120)
             for _ in range(CONNECTIONS)]

    def worker(c):
        return [(i, batch(conns[c], chunks[i])) for i in range(c, len(chunks), CONNECTIONS)]

    out = [None] * len(chunks)
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        for part in pool.map(worker, range(CONNECTIONS)):
            for i, ids in part:
                out[i] = ids
    took = time.time() - started
    print("mix: %-13s %8d commands in %6.1f s" % (name, len(commands), took), file=sys.stderr)
    return [x for ids in out for x in ids]


n = min(scale, len(customers))
touched = customers[:n]
run_phase("customer edits", [
    {"method": "PATCH", "path": "/v1/customers/%s" % c,
     "body": {"phone2": "+1 555 %04d" % i, "description": "Key account %d" % i}}
    for i, c in enumerate(touched)])
contacts = run_phase("contacts", [
    {"method": "POST", "path": "/v1/customers/%s/contacts" % c,
     "body": {"name": "Lead %d" % i, "email": "lead%d@example.com" % i, "title": "Manager"}}
    for i, c in enumerate(touched)])
run_phase("make-primary", [{"method": "POST", "path": "/v1/contacts/%s/make-primary" % c, "body": {}}
                           for c in contacts])
run_phase("contact edits", [
    {"method": "PATCH", "path": "/v1/contacts/%s" % c, "body": {"phone": "+1 555 %04d" % i}}
    for i, c in enumerate(contacts)])
run_phase("notes", [
    {"method": "POST", "path": "/v1/customers/%s/notes" % touched[i % n],
     "body": {"text": "Gate code changed to %04d; call ahead." % i, "urgent": i % 5 == 0}}
    for i in range(n + n // 2)])
owned = [(customers[i % len(customers)], s) for i, s in enumerate(sites)][:n]
orders = run_phase("work orders", [
    {"method": "POST", "path": "/v1/customers/%s/work-orders" % c,
     "body": {"site_id": s, "summary": "Quarterly service", "priority": "normal"}}
    for c, s in owned])
run_phase("assign", [{"method": "POST", "path": "/v1/work-orders/%s/assign" % w,
                      "body": {"assignee": "tech%d" % (i % 40)}} for i, w in enumerate(orders)])
run_phase("complete", [{"method": "POST", "path": "/v1/work-orders/%s/complete" % w,
                        "body": {"resolution": "Filters replaced"}} for w in orders[::2]])
