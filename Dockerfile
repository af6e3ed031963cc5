# syntax=docker/dockerfile:1
# lasthope-server (apps/lasthope-server): self-contained and trimmed, as scripts/publish-server.sh publishes it, on
# .NET's runtime-deps image (the native libraries .NET needs, no .NET), as the image's non-root user.
#   docker build -t lasthope-server .
#   docker run --rm -p 127.0.0.1:8080:8080 -v lasthope-data:/data \
#     -e Lasthope__Security__ApiKeys__0__Key=A-LONG-SECRET -e Lasthope__Security__ApiKeys__0__Scopes__0=rank lasthope-server
# Listening beyond loopback needs an API key (README, Security and limits): without one the server exits 2.
# x64 only: the build targets x64 (Directory.Build.props).

FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# What the publish reads (.dockerignore keeps the rest out): the build settings, the libraries, the server's project.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
COPY apps/lasthope-server/ apps/lasthope-server/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish apps/lasthope-server/lasthope-server.csproj -c Release -o /app --disable-build-servers -nologo

FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/runtime-deps:10.0
WORKDIR /app
COPY --from=build /app ./
# The embedded store's directory (Lasthope:Storage:DataDirectory); unused on PostgreSQL.
RUN mkdir /data && chown "$APP_UID" /data
VOLUME /data
# APP_UID: the unprivileged user of .NET's images ("app").
USER $APP_UID
# ASPNETCORE_HTTP_PORTS, the base image's, is emptied: the server listens where ASPNETCORE_URLS (or --urls) says.
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Lasthope__Storage__DataDirectory=/data
EXPOSE 8080
# /health/ready is 200 while the server serves (Degraded included: rankings are still answered), and needs no key. The
# image has no curl: bash's /dev/tcp sends the request.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]
# Exec form: the server is PID 1 and gets docker stop's SIGTERM, on which it flushes the impression log.
ENTRYPOINT ["/app/lasthope-server"]
