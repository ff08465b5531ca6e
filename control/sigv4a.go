package control

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"
)

// This file checks AWS Signature Version 4A (AWS4-ECDSA-P256-SHA256), which
// the cloudfront-keyvaluestore clients sign with: the canonical request is
// SigV4's (canonicalRequest), the scope has no region (the regions are the
// signed X-Amz-Region-Set header), and the signature is an ECDSA P-256
// signature by a key derived from the secret access key.

// sigV4AAlgorithm is SigV4A's algorithm name.
const sigV4AAlgorithm = "AWS4-ECDSA-P256-SHA256"

// kvsSigningService is the service name in a KeyValueStore credential scope.
const kvsSigningService = "cloudfront-keyvaluestore"

// maxDERSignature bounds a DER ECDSA P-256 signature (two 33-byte integers
// and their headers).
const maxDERSignature = 72

// p256MinusTwo is the order of P-256 less two: a derived candidate must be
// below it.
var p256MinusTwo = new(big.Int).Sub(elliptic.P256().Params().N, big.NewInt(2))

// deriveV4AKey derives the SigV4A public key of an access key pair, as the
// AWS SDKs derive the private key (FIPS 186-4 B.4.2 with an SP 800-108
// counter-mode HMAC-SHA256 KDF): for counter = 1, 2, … the 256-bit
// candidate HMAC("AWS4A"+secret, 00000001 ‖ "AWS4-ECDSA-P256-SHA256" ‖ 00 ‖
// accessKey ‖ counter ‖ 00000100) is taken once it is below n−2, and the
// private scalar is candidate+1.
func deriveV4AKey(accessKey, secret string) (*ecdsa.PublicKey, error) {
	mac := hmac.New(sha256.New, []byte("AWS4A"+secret))
	for counter := 1; counter <= 0xff; counter++ {
		mac.Reset()
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], 1) // the KDF's one block
		mac.Write(n[:])
		mac.Write([]byte(sigV4AAlgorithm))
		mac.Write([]byte{0})
		mac.Write([]byte(accessKey))
		mac.Write([]byte{byte(counter)})
		binary.BigEndian.PutUint32(n[:], 256) // bits of output
		mac.Write(n[:])
		c := new(big.Int).SetBytes(mac.Sum(nil))
		if c.Cmp(p256MinusTwo) >= 0 {
			continue
		}
		d := c.Add(c, big.NewInt(1)).FillBytes(make([]byte, 32))
		priv, err := ecdh.P256().NewPrivateKey(d)
		if err != nil {
			return nil, fmt.Errorf("sigv4a key: %w", err)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), priv.PublicKey().Bytes())
		if err != nil {
			return nil, fmt.Errorf("sigv4a key: %w", err)
		}
		return pub, nil
	}
	return nil, errors.New("sigv4a key: no candidate below the curve order")
}

// verifySignatureV4A checks that a's SigV4A signature is the one the key
// derived from a.AccessKeyID and secret makes for r with the body whose
// SHA-256 is payloadHash (hex), at now, for service.
func verifySignatureV4A(r *http.Request, a *authorization, secret, service, payloadHash string, now time.Time) error {
	amzDate, err := checkSigningContext(r, a, service, payloadHash, now)
	if err != nil {
		return err
	}
	sig, err := hex.DecodeString(a.Signature)
	if err != nil {
		return errSignatureMismatch
	}
	pub, err := deriveV4AKey(a.AccessKeyID, secret)
	if err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(pub, stringToSignV4A(r, a, amzDate, payloadHash), sig) {
		return errSignatureMismatch
	}
	return nil
}

// stringToSignV4A returns the SHA-256 of SigV4A's string to sign for r:
// algorithm, X-Amz-Date, scope and the canonical request's hash.
func stringToSignV4A(r *http.Request, a *authorization, amzDate, payloadHash string) []byte {
	creq := sha256.Sum256([]byte(canonicalRequest(r, a.SignedHeaders, payloadHash)))
	sts := sigV4AAlgorithm + "\n" + amzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(creq[:])
	sum := sha256.Sum256([]byte(sts))
	return sum[:]
}
