# Wiredesk in a container: build with the Swift toolchain, run on a plain Ubuntu base.
FROM swift:6.3-noble AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --product wiredesk --static-swift-stdlib \
 && mkdir -p /out && cp "$(swift build -c release --show-bin-path)/wiredesk" /out/wiredesk

FROM ubuntu:noble
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app wiredesk
WORKDIR /app
COPY --from=build /out/wiredesk /usr/local/bin/wiredesk
COPY migrations migrations
USER wiredesk
ENV WIREDESK_HOST=0.0.0.0 WIREDESK_PORT=8080 WIREDESK_MIGRATIONS=/app/migrations
EXPOSE 8080
CMD ["sh", "-c", "wiredesk migrate && exec wiredesk serve"]
