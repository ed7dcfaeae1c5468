/*
 * miners.yar: crypto-currency miners (ATT&CK T1496, Resource Hijacking).
 * Written for contain; see yara-rules/README.md for what each rule detects
 * and its known false positives.
 */

rule Miner_Stratum_URL : miner
{
    meta:
        title = "Stratum mining-pool URL"
        description = "a Stratum mining-pool URL (stratum+tcp://, stratum+ssl://, stratum+tls://, stratum2+tcp://): a miner's pool address in a config, a command line or memory"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $tcp = "stratum+tcp://" ascii wide nocase
        $ssl = "stratum+ssl://" ascii wide nocase
        $tls = "stratum+tls://" ascii wide nocase
        $v2 = "stratum2+tcp://" ascii wide nocase
        $udp = "stratum+udp://" ascii wide nocase

    condition:
        any of them
}

rule Miner_XMRig_Config : miner
{
    meta:
        title = "XMRig miner configuration"
        description = "an XMRig-style JSON configuration: \"donate-level\" with the pool, CPU and RandomX keys of an XMRig config.json"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $donate = "\"donate-level\"" ascii
        $pools = "\"pools\"" ascii
        $randomx = "\"randomx\"" ascii
        $hugepages = "\"huge-pages\"" ascii
        $nicehash = "\"nicehash\"" ascii
        $rigid = "\"rig-id\"" ascii
        $keepalive = "\"keepalive\"" ascii
        $coin = "\"coin\"" ascii
        $algo = "\"algo\"" ascii
        $maxthreads = "\"max-threads-hint\"" ascii
        $cpu = "\"cpu\"" ascii

    condition:
        $donate and $pools and 3 of ($randomx, $hugepages, $nicehash, $rigid, $keepalive, $coin, $algo, $maxthreads, $cpu)
}

rule Miner_XMRig_Binary : miner
{
    meta:
        title = "XMRig-like miner program"
        description = "an XMRig-like miner program: its name with its command-line options (--donate-level, --cpu-max-threads-hint, --randomx-*) or algorithm names"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $name = "xmrig" ascii wide nocase fullword
        $opt1 = "--donate-level" ascii wide
        $opt2 = "--cpu-max-threads-hint" ascii wide
        $opt3 = "--randomx-mode" ascii wide
        $opt4 = "--randomx-1gb-pages" ascii wide
        $opt5 = "--max-cpu-usage" ascii wide
        $opt6 = "--nicehash" ascii wide
        $alg1 = "cryptonight" ascii wide nocase
        $alg2 = "rx/0" ascii wide fullword
        $alg3 = "randomx" ascii wide nocase
        $alg4 = "cn/r" ascii wide fullword

    condition:
        any of ($opt*) and any of ($alg*) and ($name or 2 of ($opt*))
}

rule Miner_Pool_Domain : miner
{
    meta:
        title = "mining pool domain with pool settings"
        description = "the domain of a well-known public mining pool (Monero and others) next to a miner's pool or wallet settings"
        severity = "medium"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $d01 = "supportxmr.com" ascii wide nocase
        $d02 = "minexmr.com" ascii wide nocase
        $d03 = "xmrpool.eu" ascii wide nocase
        $d04 = "nanopool.org" ascii wide nocase
        $d05 = "moneroocean.stream" ascii wide nocase
        $d06 = "minergate.com" ascii wide nocase
        $d07 = "2miners.com" ascii wide nocase
        $d08 = "f2pool.com" ascii wide nocase
        $d09 = "herominers.com" ascii wide nocase
        $d10 = "hashvault.pro" ascii wide nocase
        $d11 = "c3pool.com" ascii wide nocase
        $d12 = "unmineable.com" ascii wide nocase
        $d13 = "nicehash.com" ascii wide nocase
        $d14 = "dwarfpool.com" ascii wide nocase
        $d15 = "monerohash.com" ascii wide nocase
        $d16 = "xmrfast.com" ascii wide nocase
        $d17 = "gulf.moneroocean" ascii wide nocase
        $d18 = "pool.hashvault" ascii wide nocase
        $d19 = "xmr.2miners" ascii wide nocase
        $d20 = "ethermine.org" ascii wide nocase
        $d21 = "crypto-pool.fr" ascii wide nocase
        $d22 = "viabtc.com" ascii wide nocase
        $d23 = "antpool.com" ascii wide nocase
        $d24 = "slushpool.com" ascii wide nocase
        $ctx1 = "stratum" ascii wide nocase
        $ctx2 = "wallet" ascii wide nocase
        $ctx3 = "--user" ascii wide
        $ctx4 = "--url" ascii wide
        $ctx5 = "\"url\"" ascii
        $ctx6 = "\"user\"" ascii
        $ctx7 = /-o\s+[a-z0-9.\-]{1,64}\.[a-z]{2,10}:\d{2,5}/ ascii

    condition:
        any of ($d*) and any of ($ctx*)
}

rule Miner_Stratum_Login : miner
{
    meta:
        title = "Stratum mining-pool login"
        description = "a Stratum JSON-RPC login as a miner sends it to its pool (\"method\":\"login\" with \"params\", \"pass\" and the miner's \"agent\"; or mining.subscribe / mining.authorize): a miner talking to a pool, in traffic, memory or a file"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $login = /"method"[ \t]{0,4}:[ \t]{0,4}"login"/ ascii
        $subscribe = /"method"[ \t]{0,4}:[ \t]{0,4}"mining\.(subscribe|authorize)"/ ascii
        $params = "\"params\"" ascii
        $pass = "\"pass\"" ascii
        $agent = "\"agent\"" ascii

    condition:
        $params and (($login and $pass and $agent) or $subscribe)
}
