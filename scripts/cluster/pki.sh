#!/usr/bin/env bash
# Makes the test cluster's throwaway PKI in the directory given as $1 (openssl only):
#   ca.{crt,key}                 the cluster CA (client and serving certs below are signed by it)
#   apiserver.{crt,key}          serving cert for 127.0.0.1 / localhost (+ in-cluster names)
#   admin.{crt,key}              client cert CN=kubernetes-admin, O=system:masters
#   controller-manager.{crt,key} client cert for kube-controller-manager (system:masters)
#   standin.{crt,key}            client cert for the kubelet stand-in (system:masters)
#   kubelet-client.{crt,key}     kube-apiserver's client cert towards the kubelet (pods/log, exec: system:masters)
#   kubelet-serving.{crt,key}    the kubelet stand-in's serving cert for 127.0.0.1 (its /containerLogs endpoint)
#   sa.{key,pub}                 service-account token signing key pair
# Keys are never reused across `cluster:up` runs that start a fresh cluster.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

newkey ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=kubernetes-deploy-resource test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.crt 2>/dev/null

# sign NAME SUBJECT EXTENSIONS: key + CSR + cert signed by the CA, valid for a year.
sign() {
  local name=$1 subj=$2 ext=$3
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
    -extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}

client_ext=$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'
sign apiserver "/CN=kube-apiserver" $'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1'
sign admin "/O=system:masters/CN=kubernetes-admin" "$client_ext"
sign controller-manager "/O=system:masters/CN=system:kube-controller-manager" "$client_ext"
sign standin "/O=system:masters/CN=kubelet-standin" "$client_ext"
sign kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client_ext"
sign kubelet-serving "/CN=system:node:standin-node" $'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost'

newkey sa.key
openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
rm -f ca.srl
chmod 600 ./*.key
chmod 644 ./*.crt sa.pub
