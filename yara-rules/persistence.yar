/*
 * persistence.yar: staying on a machine: cron lines, /etc/ld.so.preload,
 * systemd units and SSH keys written from a script. Written for contain; see
 * yara-rules/README.md.
 */

rule Persist_Cron_Download : persistence
{
    meta:
        title = "cron job downloading or connecting out"
        description = "a cron line that downloads or connects out on a schedule (* * * * * curl ... | sh, wget -q -O- ..., /dev/tcp, base64 -d | sh)"
        severity = "high"
        attack = "T1053.003"
        reference = "https://attack.mitre.org/techniques/T1053/003/"
        author = "contain"

    strings:
        $c1 = /(^|[\n'"])\s*(\*|[0-9]{1,2}([,\-][0-9]{1,2})*)(\/[0-9]{1,2})?(\s+(\*|[0-9]{1,2}([,\-][0-9]{1,2})*)(\/[0-9]{1,2})?){4}\s+(root\s+)?[^\n]{0,120}\b(curl|wget)\s[^\n]{0,200}\|\s*(\/usr)?(\/bin\/)?(ba|da|z)?sh\b/ ascii
        $c2 = /(^|[\n'"])\s*(\*|[0-9]{1,2}([,\-][0-9]{1,2})*)(\/[0-9]{1,2})?(\s+(\*|[0-9]{1,2}([,\-][0-9]{1,2})*)(\/[0-9]{1,2})?){4}\s+(root\s+)?[^\n]{0,200}\/dev\/tcp\// ascii
        $c3 = /(^|[\n'"])\s*(\*|[0-9]{1,2}([,\-][0-9]{1,2})*)(\/[0-9]{1,2})?(\s+(\*|[0-9]{1,2}([,\-][0-9]{1,2})*)(\/[0-9]{1,2})?){4}\s+(root\s+)?[^\n]{0,200}base64\s+(-d|--decode)[^\n]{0,64}\|\s*(\/usr)?(\/bin\/)?(ba|da|z)?sh\b/ ascii
        $c4 = /@(reboot|hourly|daily)\s+(root\s+)?[^\n]{0,120}\b(curl|wget)\s[^\n]{0,200}\|\s*(\/usr)?(\/bin\/)?(ba|da|z)?sh\b/ ascii

    condition:
        filesize < 8MB and any of them
}

rule Persist_Cron_Write : persistence
{
    meta:
        title = "cron job installed by a script"
        description = "a script installing a cron job: a line echoed into crontab -, /etc/crontab, /etc/cron.d/ or /var/spool/cron/"
        severity = "medium"
        attack = "T1053.003"
        reference = "https://attack.mitre.org/techniques/T1053/003/"
        author = "contain"

    strings:
        $w1 = /(echo|printf)\s+[^\n]{1,300}>>?\s*['"]?\/(etc\/crontab|etc\/cron\.(d|hourly|daily|weekly|monthly)\/|var\/spool\/cron\/)/ ascii
        $w2 = /\(\s*crontab\s+-l[^\n)]{0,40};\s*(echo|printf)\s+[^\n]{1,300}\)\s*\|\s*crontab\s+-/ ascii
        $w3 = /(echo|printf)\s+['"][^\n'"]{1,300}['"]\s*\|\s*crontab\s+(-u\s+\w{1,32}\s+)?-/ ascii
        $w4 = /tee\s+(-a\s+)?['"]?\/(etc\/crontab|etc\/cron\.d\/|var\/spool\/cron\/)/ ascii

    condition:
        filesize < 8MB and any of them
}

rule Persist_LD_Preload : persistence
{
    meta:
        title = "/etc/ld.so.preload written"
        description = "a library written into /etc/ld.so.preload (echo /path/lib.so > /etc/ld.so.preload, tee, cp): every dynamically linked program then loads it, the usual way of a userland rootkit"
        severity = "critical"
        attack = "T1574.006"
        reference = "https://attack.mitre.org/techniques/T1574/006/"
        author = "contain"

    strings:
        $w1 = /(echo|printf)\s+[^\n]{1,200}>>?\s*['"]?\/etc\/ld\.so\.preload/ ascii
        $w2 = /tee\s+(-a\s+)?['"]?\/etc\/ld\.so\.preload/ ascii
        $w3 = /\b(cp|mv|install|ln\s+-s[f]?)\s+[^\n]{1,200}\s\/etc\/ld\.so\.preload/ ascii
        $c2 = /fopen\s*\(\s*"\/etc\/ld\.so\.preload"\s*,\s*"[aw]/ ascii

    condition:
        filesize < 8MB and (any of ($w*) or $c2)
}

rule Persist_Systemd_Unit_Write : persistence
{
    meta:
        title = "systemd unit written and enabled"
        description = "a script writing a systemd unit and enabling it (echo/cat/tee into /etc/systemd/system/NAME.service, then systemctl enable or daemon-reload)"
        severity = "high"
        attack = "T1543.002"
        reference = "https://attack.mitre.org/techniques/T1543/002/"
        author = "contain"

    strings:
        $w1 = />>?\s*['"]?\/(etc|lib|usr\/lib|run)\/systemd\/(system|user)\/[\w@.\-]{1,64}\.(service|timer|path|socket)(['"\s;&|)]|$)/ ascii
        $w2 = /tee\s+(-a\s+)?['"]?\/(etc|lib|usr\/lib|run)\/systemd\/(system|user)\/[\w@.\-]{1,64}\.(service|timer|path|socket)(['"\s;&|)]|$)/ ascii
        $w3 = /\b(cp|mv|install)\s+[^\n]{1,200}\s\/(etc|lib|usr\/lib)\/systemd\/system\/([\w@.\-]{1,64}\.(service|timer|path|socket))?(['"\s;&|)]|$)/ ascii
        $en1 = /systemctl\s+(--now\s+)?enable\b/ ascii
        $en2 = /systemctl\s+daemon-reload/ ascii
        $en3 = /systemctl\s+start\b/ ascii

    condition:
        filesize < 8MB and any of ($w*) and any of ($en*)
}

rule Persist_Systemd_Unit_Suspicious_Exec : persistence
{
    meta:
        title = "systemd unit running from tmp or downloading"
        description = "a systemd unit whose ExecStart runs from /tmp, /dev/shm or /var/tmp, or downloads, decodes or opens a /dev/tcp socket"
        severity = "high"
        attack = "T1543.002"
        reference = "https://attack.mitre.org/techniques/T1543/002/"
        author = "contain"

    strings:
        $svc = "[Service]" ascii
        $e1 = /\nExecStart(Pre|Post)?=[-@+!:]{0,3}\/(tmp|dev\/shm|var\/tmp)\// ascii
        $e2 = /\nExecStart(Pre|Post)?=[^\n]{0,200}\b(curl|wget)\s/ ascii
        $e3 = /\nExecStart(Pre|Post)?=[^\n]{0,200}\/dev\/tcp\// ascii
        $e4 = /\nExecStart(Pre|Post)?=[^\n]{0,200}base64\s+(-d|--decode)/ ascii
        $e5 = /\nExecStart(Pre|Post)?=[^\n]{0,40}\/\.[^\/\n]{1,32}\// ascii

    condition:
        filesize < 1MB and $svc and any of ($e*)
}

rule Persist_SSH_Authorized_Key_Write : persistence
{
    meta:
        title = "SSH key added to authorized_keys"
        description = "a script appending an SSH public key to an authorized_keys file (echo ssh-rsa ... >> /root/.ssh/authorized_keys)"
        severity = "high"
        attack = "T1098.004"
        reference = "https://attack.mitre.org/techniques/T1098/004/"
        author = "contain"

    strings:
        $w1 = /(echo|printf)\s+['"]?(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d{3}|sk-ssh-ed25519@openssh\.com)\s+AAAA[^\n]{1,1024}>>?\s*['"]?[^\s'"]{0,128}\.ssh\/authorized_keys2?/ ascii
        $w2 = /(echo|printf)\s+[^\n]{0,64}\$[\w{]{1,32}[^\n]{0,64}>>\s*['"]?[^\s'"]{0,128}\.ssh\/authorized_keys2?/ ascii
        $w3 = /(curl|wget)\s[^\n]{0,200}>>\s*['"]?[^\s'"]{0,128}\.ssh\/authorized_keys2?/ ascii

    condition:
        filesize < 8MB and any of them
}
