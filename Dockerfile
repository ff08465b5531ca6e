# edgefront: a self-hosted edge cache that behaves like Amazon CloudFront.
#
#   docker build -t edgefront .
#   docker run --rm -p 8080:8080 -p 8443:8443 -p 9090:9090 edgefront
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
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/edgefront ./cmd/edgefront

# distroless/static: CA certificates (for https origins and ACME) and tzdata,
# no shell, runs as the unprivileged user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edgefront /edgefront
USER 65532:65532
# http, https, admin (metrics and the control API)
EXPOSE 8080 8443 9090
ENTRYPOINT ["/edgefront"]
CMD ["serve", "--http", "0.0.0.0:8080", "--https", "0.0.0.0:8443", "--admin", "0.0.0.0:9090"]
