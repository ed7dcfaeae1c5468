/*
 * test.yar: the EICAR anti-virus test string, to prove that detection works
 * end to end (a file, a process's memory, a network stream) without real
 * malware. Written for contain; see yara-rules/README.md.
 */

rule EICAR_Test_String : test
{
    meta:
        title = "EICAR test string"
        description = "the EICAR anti-virus test string (harmless, made to test that scanning and alerting work)"
        severity = "high"
        attack = ""
        reference = "https://www.eicar.org/download-anti-malware-testfile/"
        author = "contain"

    strings:
        // written with escapes so that this file is not itself an EICAR file
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*" ascii wide

    condition:
        $eicar
}
