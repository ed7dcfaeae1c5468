/*
 * webshells.yar: web shells in PHP, JSP and ASP/ASPX pages (ATT&CK T1505.003,
 * Server Software Component: Web Shell). Written for contain; see
 * yara-rules/README.md.
 */

rule WebShell_PHP_Request_Exec : webshell
{
    meta:
        title = "PHP web shell running request input"
        description = "a PHP page that passes request input ($_GET, $_POST, $_REQUEST, $_COOKIE, $_SERVER['HTTP_*']) straight to eval, assert, system, passthru, shell_exec, exec, popen, proc_open or pcntl_exec"
        severity = "critical"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "contain"

    strings:
        $call = /\b(eval|assert|system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|create_function)\s*\(\s*@?\s*((base64_decode|gzinflate|gzuncompress|str_rot13|stripslashes|urldecode|rawurldecode|trim|hex2bin)\s*\(\s*)*\$_(GET|POST|REQUEST|COOKIE|SERVER\s*\[\s*['"]HTTP_)/ ascii nocase
        $bt = /`\s*\$_(GET|POST|REQUEST|COOKIE)\s*\[/ ascii

    condition:
        filesize < 2MB and ($call or $bt)
}

rule WebShell_PHP_Obfuscated_Eval : webshell
{
    meta:
        title = "PHP eval of decoded code"
        description = "a PHP page that evaluates decoded text: eval or assert of base64_decode, gzinflate, gzuncompress, str_rot13 or a preg_replace /e modifier, the usual wrapping of a packed web shell"
        severity = "high"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "contain"

    strings:
        $php1 = "<?php" ascii nocase
        $php2 = "<?=" ascii
        $php3 = "<? " ascii
        $eval = /\b(eval|assert)\s*\(\s*@?\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|hex2bin)\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|hex2bin)?/ ascii nocase
        $pregE = /preg_replace\s*\(\s*['"]\/[^'"\n]{0,64}\/[a-df-z]{0,6}e[a-z]{0,6}['"]\s*,/ ascii

    condition:
        filesize < 2MB and any of ($php*) and ($eval or $pregE)
}

rule WebShell_JSP_Runtime_Exec : webshell
{
    meta:
        title = "JSP web shell running request input"
        description = "a JSP page that runs a request parameter as a command (Runtime.getRuntime().exec or ProcessBuilder with request.getParameter)"
        severity = "critical"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "contain"

    strings:
        $exec1 = /Runtime\.getRuntime\(\)\s*\.exec\s*\(/ ascii
        $exec2 = /new\s+ProcessBuilder\s*\(/ ascii
        $param = /request\.getParameter\s*\(/ ascii
        $param2 = /request\.getHeader\s*\(/ ascii
        $direct = /\.exec\s*\(\s*request\.(getParameter|getHeader)\s*\(/ ascii

    condition:
        filesize < 2MB and ($direct or (any of ($exec*) and any of ($param*)))
}

rule WebShell_ASPX_Process_Exec : webshell
{
    meta:
        title = "ASP.NET web shell starting a shell"
        description = "an ASP.NET page that starts cmd.exe or powershell with request input (Process.Start / ProcessStartInfo with Request[...], Request.Form, Request.QueryString)"
        severity = "critical"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "contain"

    strings:
        $page = /<%@\s*(Page|WebHandler|Control)\b/ ascii nocase
        $proc1 = "Process.Start(" ascii nocase
        $proc2 = "ProcessStartInfo(" ascii nocase
        $shell1 = "cmd.exe" ascii nocase
        $shell2 = "powershell" ascii nocase
        $shell3 = "/bin/sh" ascii
        $shell4 = "/bin/bash" ascii
        $req = /Request(\.Form|\.QueryString|\.Params|\.Item)?\s*\[\s*["']/ ascii nocase

    condition:
        filesize < 2MB and $page and any of ($proc*) and any of ($shell*) and $req
}

rule WebShell_ASP_Eval_Request : webshell
{
    meta:
        title = "ASP one-line web shell (eval Request)"
        description = "an ASP or ASPX one-line web shell: eval or Execute of request input (eval(Request.Item[\"x\"],\"unsafe\"), Execute(Request(\"x\")))"
        severity = "critical"
        attack = "T1505.003"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "contain"

    strings:
        $eval1 = /\beval\s*\(\s*Request(\.Item|\.Form|\.QueryString)?\s*[\[(]\s*["']/ ascii nocase
        $eval2 = /\bExecute(Global)?(\s*\(\s*|\s+)Request(\.Item|\.Form|\.QueryString)?\s*[\[(]\s*["']/ ascii nocase

    condition:
        filesize < 2MB and any of ($eval*)
}
