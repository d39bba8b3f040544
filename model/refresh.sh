#!/bin/sh
# Refreshes the vendored AWS service models from their sources (model/README.md), then
# regenerates src/model/. Run from the repository root after bumping the pinned
# @aws-sdk/client-* devDependencies (npm install --save-exact) or the botocore models.
#   BOTOCORE_KMS: botocore's kms-2014-11-01.json (default: ../shared/models/kms-2014-11-01.json)
#   BOTOCORE_DATA: a botocore data directory (default: Debian python3-botocore's)
set -eu
cd "$(dirname "$0")/.."
BOTOCORE_KMS=${BOTOCORE_KMS:-../shared/models/kms-2014-11-01.json}
BOTOCORE_DATA=${BOTOCORE_DATA:-/usr/lib/python3/dist-packages/botocore/data}
for s in kms iam sts organizations cloudtrail; do
  cp "node_modules/@aws-sdk/client-$s/dist-es/schemas/schemas_0.js" "model/sources/$s/schemas_0.js"
  cp "node_modules/@aws-sdk/client-$s/dist-es/models/enums.js" "model/sources/$s/enums.js"
  node -p "require('@aws-sdk/client-$s/package.json').version" > "model/sources/$s/sdk-version"
done
cp "$BOTOCORE_KMS" model/sources/kms/service-2.json
cp "$BOTOCORE_DATA/iam/2010-05-08/service-2.json" model/sources/iam/service-2.json
cp "$BOTOCORE_DATA/sts/2011-06-15/service-2.json" model/sources/sts/service-2.json
cp "$BOTOCORE_DATA/organizations/2016-11-28/service-2.json" model/sources/organizations/service-2.json
cp "$BOTOCORE_DATA/cloudtrail/2013-11-01/service-2.json" model/sources/cloudtrail/service-2.json
[ "${NO_GENERATE:-}" = 1 ] || node model/generate.js
