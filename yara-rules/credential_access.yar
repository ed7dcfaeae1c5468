/*
 * credential_access.yar: credentials taken from inside a container: the
 * Kubernetes service-account token, cloud instance metadata, and the cloud,
 * Kubernetes and registry configs of a home directory. Written for contain;
 * see yara-rules/README.md.
 */

rule Cred_K8s_ServiceAccount_Token : credential_access
{
    meta:
        title = "Kubernetes service-account token read"
        description = "the Kubernetes service-account token read by a command (cat, curl, base64, cp, tar) or sent as a Bearer header: a pod's API credential taken"
        severity = "high"
        attack = "T1528"
        reference = "https://attack.mitre.org/techniques/T1528/"
        author = "contain"

    strings:
        $read = /\b(cat|curl|wget|base64|cp|tar|xxd|head|less|more|scp|nc)\s[^\n|;&]{0,120}\/run\/secrets\/kubernetes\.io\/serviceaccount\b/ ascii
        $sub = /\$\(\s*cat\s+[^\n)]{0,40}\/run\/secrets\/kubernetes\.io\/serviceaccount\/token\s*\)/ ascii
        $bearer = /Authorization:\s*Bearer\s+[^\n]{0,40}\/run\/secrets\/kubernetes\.io\/serviceaccount/ ascii
        $var = /=\s*['"]?\/(var\/)?run\/secrets\/kubernetes\.io\/serviceaccount\/?['"]?\s*$/ ascii
        $tok = /\$\{?\w{1,32}\}?\/token/ ascii
        $bearer2 = /Authorization:\s*Bearer\s+\$/ ascii

    condition:
        filesize < 8MB and ($read or $sub or $bearer or ($var and $tok and $bearer2))
}

rule Cred_Cloud_Metadata_Credentials : credential_access
{
    meta:
        title = "cloud metadata credentials requested"
        description = "a request for the credentials of a cloud instance-metadata service (AWS IAM security-credentials, GCP service-account token, Azure managed-identity token, Alibaba RAM role) made by curl, wget, PowerShell or a one-line HTTP call"
        severity = "high"
        attack = "T1552.005"
        reference = "https://attack.mitre.org/techniques/T1552/005/"
        author = "contain"

    strings:
        $aws = /\b(curl|wget|Invoke-WebRequest|Invoke-RestMethod|iwr|irm|requests\.get|urlopen|http\.Get|fetch)[\s(]['"]?[^\n|;&]{0,160}(169\.254\.169\.254|\[fd00:ec2::254\]|100\.100\.100\.200)\/latest\/meta-data\/(iam|ram)\/security-credentials/ ascii wide nocase
        $gcp = /\b(curl|wget|Invoke-WebRequest|Invoke-RestMethod|iwr|irm|requests\.get|urlopen|http\.Get|fetch)[\s(]['"]?[^\n|;&]{0,160}(metadata\.google\.internal|169\.254\.169\.254)\/computeMetadata\/v1\/instance\/service-accounts\/[^\s'"\/]{1,128}\/(token|identity)/ ascii wide nocase
        $azure = /\b(curl|wget|Invoke-WebRequest|Invoke-RestMethod|iwr|irm|requests\.get|urlopen|http\.Get|fetch)[\s(]['"]?[^\n|;&]{0,160}169\.254\.169\.254\/metadata\/identity\/oauth2\/token/ ascii wide nocase

    condition:
        filesize < 8MB and any of them
}

rule Cred_Cloud_Metadata_Query : credential_access
{
    meta:
        title = "cloud metadata service queried"
        description = "a download command querying a cloud instance-metadata address (curl or wget to 169.254.169.254, fd00:ec2::254, metadata.google.internal, 100.100.100.200)"
        severity = "medium"
        attack = "T1552.005"
        reference = "https://attack.mitre.org/techniques/T1552/005/"
        author = "contain"

    strings:
        $q = /\b(curl|wget|Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\s[^\n|;&]{0,200}(169\.254\.169\.254|\[?fd00:ec2::254\]?|metadata\.google\.internal|100\.100\.100\.200)/ ascii nocase

    condition:
        filesize < 8MB and $q
}

rule Cred_Config_Harvest : credential_access
{
    meta:
        title = "cloud and cluster credential files harvested"
        description = "cloud, Kubernetes and registry credential files gathered by a script: .aws/credentials, .kube/config, .docker/config.json, gcloud and Azure tokens, .git-credentials, read or searched for together"
        severity = "high"
        attack = "T1552.001"
        reference = "https://attack.mitre.org/techniques/T1552/001/"
        author = "contain"

    strings:
        $p1 = ".aws/credentials" ascii
        $p2 = ".kube/config" ascii
        $p3 = ".docker/config.json" ascii
        $p4 = ".config/gcloud/credentials.db" ascii
        $p5 = ".config/gcloud/access_tokens.db" ascii
        $p6 = ".azure/accessTokens.json" ascii
        $p7 = ".git-credentials" ascii
        $p8 = ".s3cfg" ascii fullword
        $p9 = ".passwd-s3fs" ascii
        $p10 = ".azure/msal_token_cache" ascii
        $read = /\b(cat|cp|tar|curl|scp|base64|find\s+\/\s[^\n]{0,40}-name)\s[^\n|;&]{0,80}(\.aws\/credentials|\.kube\/config|\.docker\/config\.json|\.git-credentials|\.config\/gcloud\/|\.azure\/)/ ascii
        $env = /\benv\s*\|\s*grep\s+(-[a-zA-Z]{1,4}\s+)*['"]?[^\n]{0,20}(AWS_|AZURE_|GOOGLE_|SECRET|TOKEN|KEY)/ ascii

    condition:
        filesize < 8MB and (3 of ($p*) or ($read and (2 of ($p*) or $env)))
}
