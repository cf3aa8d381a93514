#!/bin/bash
# --- Start of configuration ---
upload_url="The upload_url from Step 2"
content_md5="The content_md5 from Step 2"
file_name="Your artifact file name" # The name of your artifact file
# --- End of configuration ---
echo "Uploading artifact file..."
curl "$upload_url" \
-X "PUT" \
-H "Content-Type: application/octet-stream" \
-H "Content-MD5: $content_md5" \
-T "./$file_name" \
--compressed
