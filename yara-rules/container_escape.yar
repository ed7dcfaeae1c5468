/*
 * container_escape.yar: escaping a container to its host (ATT&CK T1611,
 * Escape to Host). Written for contain; see yara-rules/README.md.
 */

rule Escape_Cgroup_Release_Agent : container_escape
{
    meta:
        title = "cgroup release_agent container escape"
        description = "the cgroup v1 release_agent escape: notify_on_release set to 1 and a release_agent written with a host path, so the host kernel runs the attacker's program"
        severity = "critical"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $notify_w = /echo\s+['"]?1['"]?\s*>\s*['"]?[^\s'"]{0,200}\/notify_on_release/ ascii
        $agent_w1 = /(echo|printf)\s+[^\n]{1,200}>\s*['"]?[^\s'"]{0,200}\/release_agent\b/ ascii
        $agent_w2 = /tee\s+(-a\s+)?['"]?[^\s'"]{0,200}\/release_agent\b/ ascii
        $mount = /mount\s+[^\n]{0,64}-t\s+cgroup\s/ ascii
        $mount2 = /mount\s+[^\n]{0,64}-o\s+(rdma|memory|cpu|cpuset|devices|freezer|net_cls|blkio|pids|perf_event|hugetlb)\s+cgroup\s/ ascii
        $s_notify = "notify_on_release" ascii
        $s_agent = "release_agent" ascii
        $s_mtab = "/etc/mtab" ascii
        $s_upper = "upperdir=" ascii

    condition:
        ($notify_w and any of ($agent_w*)) or
        (any of ($agent_w*) and any of ($mount*)) or
        (filesize < 8MB and $s_notify and $s_agent and any of ($mount*) and ($s_mtab or $s_upper))
}

rule Escape_Container_Runtime_Socket : container_escape
{
    meta:
        title = "container runtime socket used to reach the host"
        description = "use of the Docker, containerd, CRI-O or Podman API socket from a script to start a privileged container or mount the host's root (curl --unix-socket, docker -H unix://, \"Privileged\":true, -v /:/host)"
        severity = "high"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $curl = /--unix-socket\s+['"]?\/(var\/)?run\/(docker|containerd\/containerd|crio\/crio|podman\/podman|k3s\/containerd\/containerd)\.sock/ ascii
        $host = /(-H|--host)[\s=]+['"]?unix:\/\/\/(var\/)?run\/(docker|podman\/podman)\.sock/ ascii
        $addr = /(--address|-a)\s+\/(var\/)?run\/(containerd\/containerd|k3s\/containerd\/containerd)\.sock/ ascii
        $api1 = /http:\/\/(localhost|127\.0\.0\.1|docker|v1\.\d{2})\/(v1\.\d{2}\/)?containers\/create/ ascii
        $p1 = /"Privileged"\s*:\s*true/ ascii nocase
        $p2 = /"Binds"\s*:\s*\[\s*"\/:\// ascii
        $p3 = /\s--privileged\b/ ascii
        $p4 = /\s-v\s+['"]?\/:\/[A-Za-z0-9_.\-]{0,32}/ ascii
        $p5 = /\s--pid[= ]host\b/ ascii
        $p6 = /"PidMode"\s*:\s*"host"/ ascii
        $p7 = /\s--mount\s+type=bind,(source|src)=\/,/ ascii
        $p8 = /"HostConfig"\s*:/ ascii

    condition:
        filesize < 8MB and (($curl and ($api1 or any of ($p*))) or (($host or $addr) and any of ($p*)))
}

rule Escape_Nsenter_Host_PID1 : container_escape
{
    meta:
        title = "nsenter into PID 1 namespaces"
        description = "nsenter into the namespaces of PID 1 (nsenter --target 1 --mount --uts --ipc --net --pid): from a privileged container with the host's PID namespace, a root shell on the host"
        severity = "high"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $n1 = /nsenter\s+([^\n|;&]{0,64}\s)?(-t\s*1|--target[\s=]1)(\s|$)/ ascii
        $n2 = /nsenter\s+([^\n|;&]{0,64}\s)?-[a-zA-Z]{0,8}t\s*1\s+-[a-zA-Z]{0,8}m/ ascii

    condition:
        any of them
}

rule Escape_Core_Pattern : container_escape
{
    meta:
        title = "core_pattern pipe handler written"
        description = "a pipe handler written to /proc/sys/kernel/core_pattern (echo '|/path' > core_pattern): the host kernel runs it as root on the next crash"
        severity = "critical"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $w1 = /(echo|printf)\s+[^\n]{0,8}['"]?\|[^\n]{1,200}>\s*['"]?\/proc\/sys\/kernel\/core_pattern/ ascii
        $w2 = /tee\s+['"]?\/proc\/sys\/kernel\/core_pattern/ ascii
        $w3 = /sysctl\s+(-w\s+)?kernel\.core_pattern=['"]?\|/ ascii
        $upper = "upperdir" ascii
        $core = "/proc/sys/kernel/core_pattern" ascii
        $pipe = /"\|\/[^"\n]{1,200}"/ ascii

    condition:
        any of ($w*) or (filesize < 8MB and $core and $upper and $pipe)
}

rule Escape_Uevent_Helper : container_escape
{
    meta:
        title = "uevent_helper or hotplug written"
        description = "a program written to /sys/kernel/uevent_helper or /proc/sys/kernel/hotplug, which the host kernel runs as root on the next device event"
        severity = "critical"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $w1 = /(echo|printf)\s+[^\n]{1,200}>\s*['"]?\/sys\/kernel\/uevent_helper/ ascii
        $w2 = /(echo|printf)\s+[^\n]{1,200}>\s*['"]?\/proc\/sys\/kernel\/hotplug/ ascii
        $w3 = /tee\s+['"]?\/(sys\/kernel\/uevent_helper|proc\/sys\/kernel\/hotplug)/ ascii

    condition:
        any of them
}

rule Escape_Host_Disk_Mount : container_escape
{
    meta:
        title = "host block device mounted"
        description = "a host block device mounted or opened from a script (mount /dev/sda1 /mnt, debugfs -w /dev/sda1): a privileged container reaching the host's filesystem"
        severity = "medium"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $mount = /mount\s+(-[a-z]\s+\S{1,32}\s+)*\/dev\/(sd[a-z]|vd[a-z]|xvd[a-z]|nvme\d{1,2}n\d{1,2}(p\d{1,2})?|dm-\d{1,3}|mapper\/[\w\-]{1,64})\d{0,2}\s+\/[\w\/.\-]{0,64}/ ascii
        $debugfs = /debugfs\s+(-w\s+)?\/dev\/(sd[a-z]|vd[a-z]|xvd[a-z]|nvme\d{1,2}n\d{1,2}p|dm-)\d{0,3}/ ascii

    condition:
        filesize < 8MB and any of them
}

rule Escape_Runc_Overwrite : container_escape
{
    meta:
        title = "runc overwrite exploit (CVE-2019-5736)"
        description = "the runc /proc/self/exe overwrite (CVE-2019-5736): a program planting \"#!/proc/self/exe\" to reach the host's runc binary"
        severity = "critical"
        attack = "T1611"
        reference = "https://nvd.nist.gov/vuln/detail/CVE-2019-5736"
        author = "contain"

    strings:
        $shebang = "#!/proc/self/exe" ascii

    condition:
        $shebang
}

rule Escape_Toolkit_Strings : container_escape
{
    meta:
        title = "container breakout toolkit"
        description = "a known container escape or breakout toolkit by its own strings: CDK, deepce, amicontained, BOtB (Break out the Box), Peirates, kdigger"
        severity = "high"
        attack = "T1611"
        reference = "https://attack.mitre.org/techniques/T1611/"
        author = "contain"

    strings:
        $cdk1 = "github.com/cdk-team/CDK" ascii
        $cdk2 = "cdk evaluate" ascii
        $cdk3 = "cdk run " ascii
        $deepce1 = "deepce.sh" ascii
        $deepce2 = "Docker Enumeration, Escalation of Privileges and Container Escapes" ascii nocase
        $amic1 = "github.com/genuinetools/amicontained" ascii
        $amic2 = "amicontained" ascii fullword
        $botb1 = "github.com/brompwnie/botb" ascii
        $botb2 = "Break out the Box" ascii nocase
        $peir1 = "github.com/inguardians/peirates" ascii
        $peir2 = "peirates" ascii fullword nocase
        $kdig1 = "github.com/quarkslab/kdigger" ascii
        $kdig2 = "kdigger" ascii fullword

    condition:
        any of ($cdk1, $deepce2, $amic1, $botb1, $peir1, $kdig1) or
        ($cdk2 and $cdk3) or
        2 of ($amic2, $botb2, $peir2, $kdig2, $deepce1)
}
