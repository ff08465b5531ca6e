# edgefront: a self-hosted edge cache that behaves like Amazon CloudFront.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t edgefront .
#   docker run --rm -p 8080:8080 -p 8443:8443 -p 8443:8443/udp edgefront
#
# With no configuration it serves the embedded demo distribution. Mount your
# own and name it:
#   docker run --rm -p 8080:8080 -v "$PWD/edgefront.yaml:/etc/edgefront/edgefront.yaml:ro" \
#     edgefront serve --config /etc/edgefront/edgefront.yaml --http 0.0.0.0:8080

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, in their own layer: it is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# 'edgefront version' prints the version and the git revision. Go stamps them
# itself when the build context has .git; otherwise pass them:
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t edgefront .
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
    -o /out/edgefront ./cmd/edgefront

# distroless/static: CA certificates (for https origins and ACME) and tzdata,
# no shell, runs as the unprivileged user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edgefront /edgefront
USER 65532:65532
# http, https (TCP; UDP for HTTP/3). The admin listener (the CloudFront API,
# /metrics, /healthz) stays on the container's loopback by default: without
# --control-credentials its API accepts any signature, so anyone who reached it
# could UpdateDistribution a distribution's traffic to an internal service
# (edgefront refuses to start it on another address without credentials unless
# --admin-insecure is given). To expose the API and metrics, require signatures
# and publish the port only where your operators and Prometheus are:
#   docker run --rm -p 8080:8080 -p 8443:8443 -p 8443:8443/udp \
#     -p 127.0.0.1:9090:9090 edgefront \
#     serve --http 0.0.0.0:8080 --https 0.0.0.0:8443 --admin 0.0.0.0:9090 \
#     --control-credentials "$KEY_ID:$SECRET"
# (in Kubernetes, keep the pair in a Secret, expose it as the env var CREDS and
# pass args: ["--control-credentials", "$(CREDS)"]). /metrics and /healthz are
# not authenticated; the API needs SigV4 signatures made with the pair
# (aws cloudfront … --endpoint-url http://HOST:9090); --pprof adds /debug/pprof/
# behind HTTP Basic with the same pair, sent in clear over the plain-HTTP admin
# port: use it over a private network or a tunnel.
EXPOSE 8080 8443 8443/udp
ENTRYPOINT ["/edgefront"]
CMD ["serve", "--http", "0.0.0.0:8080", "--https", "0.0.0.0:8443", "--admin", "127.0.0.1:9090"]
