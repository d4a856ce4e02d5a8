#!/usr/bin/env python3
"""Generates a realistic data set through fieldledgerd's batch path (POST /v1/batch, 100
commands per request, several connections at once) and writes the ids the load scripts pick
from. Usage: generate.py URL KEY OUTDIR CUSTOMERS CONTACTS SITES ASSETS PARTS"""
import http.client
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

url, key, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
n_customers, n_contacts, n_sites, n_assets, n_parts = map(int, sys.argv[4:9])
target = urlparse(url)
random.seed(7)
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
         "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Nakatomi", "Virtucon"]
KINDS = ["Facilities", "Services", "Holdings", "Property", "Logistics", "Foods", "Clinic", "School"]
CITIES = [("Springfield", "IL"), ("Shelbyville", "IL"), ("Ogdenville", "OR"), ("Capital City", "NY"),
          ("Brockway", "OH"), ("North Haverbrook", "ME")]
CLASSES = ["hvac", "electrical", "plumbing", "fire", "security", "lift"]
BRANDS = ["Carrier", "Daikin", "Trane", "Bosch", "Siemens", "Otis", "Honeywell"]
BATCH = 100
CONNECTIONS = 4


def batch(conn, commands):
    body = json.dumps({"commands": commands})
    conn.request("POST", "/v1/batch", body, {"Authorization": "Bearer " + key,
                                             "Content-Type": "application/json"})
    res = conn.getresponse()
    doc = json.loads(res.read())
    if res.status != 200:
        sys.exit("batch failed: %d %s" % (res.status, doc))
    ids = []
    for r in doc["results"]:
        if r["status"] >= 300:
            sys.exit("a command failed: %s" % r)
        ids.append(r["body"]["id"])
    return ids


def run_phase(name, commands):
    """Sends commands in batches over CONNECTIONS connections; returns the ids in order."""
    started = time.time()
    chunks = [commands[i:i + BATCH] for i in range(0, len(commands), BATCH)]
    conns = [http.client.HTTPConnection(target.hostname, target.port, timeout=120)
             for _ in range(CONNECTIONS)]

    def send(i):
        return batch(conns[i % CONNECTIONS], chunks[i])

    # Each connection takes every CONNECTIONS-th chunk, in order.
    def worker(c):
        return [(i, send(i)) for i in range(c, len(chunks), CONNECTIONS)]

    out = [None] * len(chunks)
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        for part in pool.map(worker, range(CONNECTIONS)):
            for i, ids in part:
                out[i] = ids
    took = time.time() - started
    print("generate: %-9s %8d commands in %6.1f s (%d/s)" % (name, len(commands), took,
                                                             len(commands) / max(took, 1e-9)),
          file=sys.stderr)
    return [x for ids in out for x in ids]


def customer(i):
    city, state = random.choice(CITIES)
    name = "%s %s %d" % (random.choice(WORDS), random.choice(KINDS), i)
    return {"method": "POST", "path": "/v1/customers", "body": {
        "name": name, "type": random.choice(["commercial", "residential"]),
        "industry": random.choice(["property", "retail", "health", "education"]),
        "service_zone": random.choice(["north", "south", "east", "west"]),
        "billing_address": {"street": "%d Main St" % (i % 999 + 1), "city": city, "state": state,
                            "postcode": "%05d" % (i % 99999), "country": "US"},
        "phone1": "+1 555 %04d" % (i % 10000), "email": "ops%d@example.com" % i,
        "external_id": "EXT-%d" % i}}


customers = run_phase("customers", [customer(i) for i in range(n_customers)])
contacts = [{"method": "POST", "path": "/v1/customers/%s/contacts" % customers[i % n_customers],
             "body": {"name": "Contact %d" % i, "email": "c%d@example.com" % i,
                      "phone": "+1 555 %04d" % (i % 10000)}} for i in range(n_contacts)]
run_phase("contacts", contacts)
site_owner = [customers[i % n_customers] for i in range(n_sites)]
sites = run_phase("sites", [{"method": "POST", "path": "/v1/customers/%s/sites" % site_owner[i],
                              "body": {"name": "Site %d" % i, "code": "S-%d" % i}}
                             for i in range(n_sites)])
asset_site = [i % n_sites for i in range(n_assets)]
assets = run_phase("assets", [{"method": "POST",
                                "path": "/v1/customers/%s/assets" % site_owner[asset_site[i]],
                                "body": {"site_id": sites[asset_site[i]], "serial_no": "SN-%d" % i,
                                         "product_class": random.choice(CLASSES),
                                         "brand": random.choice(BRANDS),
                                         "install_date": "2024-05-01"}}
                               for i in range(n_assets)])
run_phase("parts", [{"method": "POST", "path": "/v1/assets/%s/parts" % assets[i % n_assets],
                     "body": {"name": "Part %d" % i, "part_number": "P-%d" % (i % 5000)}}
                    for i in range(n_parts)])
with open(outdir + "/customers.txt", "w") as f:
    f.write("\n".join(customers) + "\n")
with open(outdir + "/sites.txt", "w") as f:
    f.write("\n".join(sites) + "\n")
