/*
 * packers.yar: packed ELF programs (ATT&CK T1027.002, Obfuscated Files or
 * Information: Software Packing). Written for contain; see
 * yara-rules/README.md.
 */

rule Packer_UPX_ELF : packer
{
    meta:
        title = "UPX-packed ELF"
        description = "an ELF program packed with UPX: the UPX! packheader near the start of the file or the UPX copyright banner; miners and botnet implants are often shipped packed"
        severity = "medium"
        attack = "T1027.002"
        reference = "https://attack.mitre.org/techniques/T1027/002/"
        author = "contain"

    strings:
        $magic = "UPX!" ascii
        $info = "$Info: This file is packed with the UPX executable packer" ascii
        $id = "$Id: UPX " ascii

    condition:
        uint32(0) == 0x464c457f and filesize < 64MB and
        ($magic in (0..0x400) or $info or ($id and $magic))
}
