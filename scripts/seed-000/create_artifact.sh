#!/bin/bash
# --- Start of configuration ---
keyid="Your ApiKeyID"
secret="Your ApiSecret"
file_name="Your artifact file name" # The name of your artifact file
# --- End of configuration ---
# get current epoch in milliseconds
EPOCH=$(date +%s%3N)
method="POST"
path="/ota/artifact"
# calculate artifact md5 (hex)
artifact_md5=$(md5sum "$file_name" | cut -d' ' -f1)
# create request body
body="{\"artifact_name\":\"$file_name\",\"artifact_md5\":\"$artifact_md5\"}"
# calculate signing_key
signing_key=$( echo -n "$(($EPOCH / 3600000))" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1 )
# calculate signature
# Note: The request body is NOT included in the signature calculation for Allxon API.
signature=$( echo -n "$method$path$EPOCH" | openssl dgst -sha256 -hmac "$signing_key" -r | cut -d' ' -f1 )
echo "Requesting to create artifact record..."
curl "https://us.api.allxon.com$path" \
-X "$method" \
-H "Accept: application/json" \
-H "Accept-Encoding: gzip" \
-H "Content-Type: application/json" \
-H "Authorization: ALLXON-SIG1 Credential=\"$keyid\",Signature=\"$signature\"" \
-H "X-Allxon-Epoch: $EPOCH" \
-d "$body" \
--compressed
