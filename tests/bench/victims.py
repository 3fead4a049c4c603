#!/usr/bin/env python3
"""victims.py PATH N: N casualty rows (victims CSV) the benchmarks import, the same for a seed."""
import csv, random, sys
path, n = sys.argv[1], int(sys.argv[2])
r = random.Random(11)
parties = ["syrian_regime", "russia", "sdf", "sna", "hts", "isis", "coalition", "other"]
govs = ["damascus", "rif_dimashq", "aleppo", "idlib", "hama", "homs", "latakia", "tartus",
        "daraa", "suwayda", "quneitra", "deir_ez_zor", "raqqa", "hasakah"]
causes = ["shooting", "shelling", "airstrike", "explosion", "landmine", "torture", "execution",
          "siege", "drowning", "other", "unknown"]
first = ["Ahmad", "Mohammad", "Fatima", "Aisha", "Omar", "Layla", "Khaled", "Hana", "Yusuf", "Mona"]
last = ["Haddad", "Nasser", "Qassem", "Sabbagh", "Darwish", "Khatib", "Hamdan", "Saleh"]
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "name", "sex", "age", "status", "categories", "date_of_death",
                "date_documented", "governorate", "area", "cause", "party", "notes"])
    for i in range(n):
        y, m, d = r.choice([2022, 2023, 2024]), r.randint(1, 12), r.randint(1, 28)
        w.writerow(["V%07d" % i, "%s %s %s" % (r.choice(first), r.choice(first), r.choice(last)),
                    r.choice(["male", "female"]), r.randint(0, 90),
                    "civilian" if r.random() < 0.9 else "combatant",
                    r.choice(["", "", "", "", "medical", "media", "civil_defense"]),
                    "%d-%02d-%02d" % (y, m, d), "%d-%02d-%02d" % (y, m, min(28, d + 1)),
                    r.choice(govs), "district %d" % r.randint(1, 40), r.choice(causes),
                    r.choice(parties), "" if r.random() < 0.8 else "witness statement on file"])
