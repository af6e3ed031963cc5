using System.Runtime;
using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Hosting;

/// <summary>How to start a <see cref="LasthopeServer"/>. Everything is optional.</summary>
public sealed class ServerSetup
{
    /// <summary>Where to listen. Default http://127.0.0.1:8080; port 0 picks a free port (see <see cref="LasthopeServer.Addresses"/>).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Overrides Lasthope:Storage:DataDirectory.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>A JSON configuration file with a "Lasthope" section.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Configuration overrides, as flat keys ("Lasthope:Counters:PriorStrength" = "100"); applied last.</summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>The clock of counters and event validation. Default the system clock; tests and the demo pass their own.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>A store to use instead of the configured one (not disposed by the server).</summary>
    public IEventStore? Store { get; init; }

    /// <summary>More services: the stores this host offers (<c>AddSqliteEventStore</c>), or test doubles.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>
/// The Lasthope service as a class: the CLI's <c>serve</c> and <c>demo</c>, the tests and the benchmarks all host it
/// in-process. It composes ASP.NET Core with <see cref="LasthopeServiceCollectionExtensions.AddLasthope"/>; starting
/// it validates the options, opens the store, rebuilds the counters from its log (<see cref="WarmStart"/>), then listens.
/// </summary>
public sealed class LasthopeServer : IAsyncDisposable
{
    // The exit codes of RunAsync, the lasthope CLI's (its ExitCodes).
    private const int OkExit = 0;
    private const int FailureExit = 1;
    private const int BadInputExit = 2;

    private readonly WebApplication _app;

    private LasthopeServer(WebApplication app, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        Addresses = addresses;
        var first = addresses[0];
        BaseAddress = first.Host is "0.0.0.0" or "[::]" ? new UriBuilder(first) { Host = "127.0.0.1" }.Uri : first;
    }

    /// <summary>Every address the server actually listens on, with the real port where port 0 was asked.</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>The first address, with a wildcard host replaced by 127.0.0.1 so that a client on this machine can use it.</summary>
    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public LasthopeOptions Options => _app.Services.GetRequiredService<IOptions<LasthopeOptions>>().Value;

    /// <summary>Binds and validates the configuration as the server would, without starting anything.</summary>
    public static LasthopeOptions LoadOptions(ServerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return Bind(BuildConfiguration(setup));
    }

    public static async Task<LasthopeServer> StartAsync(ServerSetup setup, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var configuration = BuildConfiguration(setup);
        var options = Bind(configuration); // a bad value stops the start here, as an ArgumentException naming it
        var addresses = ListenAddresses.Parse(setup.Urls);
        ListenAddresses.EnsureAllowed(addresses, options.Security);
        ConfigureProcess(options.Serving);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(setup.MinimumLogLevel);
        builder.WebHost.UseUrls(setup.Urls);
        builder.WebHost.ConfigureKestrel(k => ConfigureLimits(k.Limits, options));
        builder.Services.AddLasthope(builder.Configuration);
        if (setup.Time is { } time)
        {
            builder.Services.AddSingleton(time);
        }

        if (setup.Store is { } store)
        {
            builder.Services.AddSingleton(store);
        }

        setup.ConfigureServices?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            app.MapLasthope();
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new LasthopeServer(app, [.. bound.Select(a => new Uri(a))]);
    }

    /// <summary>
    /// What an executable does with a server (<c>lasthope serve</c>, <c>lasthope-server</c>): starts it, writes one line
    /// saying where it listens, serves until Ctrl+C, SIGTERM or <paramref name="cancellationToken"/>, then stops it,
    /// draining the impression log. A start that fails writes one line "error: ..." instead. Every line goes to
    /// <paramref name="log"/> and begins with <paramref name="name"/>, the executable's.
    /// </summary>
    /// <returns>
    /// The process exit code, the lasthope CLI's: 0 after a clean stop; 2 when the configuration or the address is
    /// refused (a bad value, listening beyond loopback without keys); 1 when the store is unavailable or the address cannot
    /// be bound.
    /// </returns>
    public static async Task<int> RunAsync(ServerSetup setup, string name, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(log);
        LasthopeServer server;
        try
        {
            server = await StartAsync(setup, cancellationToken);
        }
        catch (ArgumentException e)
        {
            // The parameter-name suffix means nothing to a person reading a configuration error.
            var message = e.ParamName is { } parameter ? e.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal) : e.Message;
            return Fail(log, BadInputExit, $"invalid configuration: {message}");
        }
        catch (StoreUnavailableException e)
        {
            return Fail(log, FailureExit, e.Message);
        }
        catch (IOException e)
        {
            return Fail(log, FailureExit, $"cannot listen on {setup.Urls}: {e.Message}");
        }

        await using (server)
        {
            await log.WriteLineAsync($"{name} listening on {string.Join(", ", server.Addresses)} (data: {Path.GetFullPath(server.Options.Storage.DataDirectory)}{(server.Options.Security.KeysConfigured ? "" : "; no API keys: loopback only")}); Ctrl+C stops it.");
            try
            {
                await Task.WhenAny(server.WaitForShutdownAsync(cancellationToken), Task.Delay(Timeout.Infinite, cancellationToken));
            }
            catch (OperationCanceledException)
            {
            }

            await log.WriteLineAsync($"{name} stopping: flushing the impression log.");
        }

        return OkExit;
    }

    private static int Fail(TextWriter log, int exitCode, string message)
    {
        log.WriteLine($"error: {message}");
        return exitCode;
    }

    /// <summary>Stops listening and drains the impression log into the store.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
    }

    /// <summary>Waits until the host shuts down (Ctrl+C or SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops, then closes what the server opened (the store, unless it was given one).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static LasthopeOptions Bind(IConfiguration configuration)
    {
        var options = configuration.GetSection(LasthopeOptions.Section).Get<LasthopeOptions>() ?? new LasthopeOptions();
        var result = new LasthopeOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new ArgumentException(result.FailureMessage);
        }

        return options;
    }

    /// <summary>Process-wide settings for the tail latency (see <see cref="ServingOptions.MinThreads"/> and <see cref="ServingOptions.SustainedLowLatencyGc"/>).</summary>
    private static void ConfigureProcess(ServingOptions serving)
    {
        if (serving.MinThreads > 0)
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, serving.MinThreads), Math.Max(io, serving.MinThreads));
        }

        if (serving.SustainedLowLatencyGc)
        {
            GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency; // process-wide; ignored where concurrent GC is off
        }
    }

    private static IConfiguration BuildConfiguration(ServerSetup setup)
    {
        var builder = new ConfigurationBuilder();
        if (setup.ConfigFile is not null)
        {
            builder.AddJsonFile(Path.GetFullPath(setup.ConfigFile), optional: false);
        }

        builder.AddEnvironmentVariables();
        builder.AddInMemoryCollection(setup.Settings);
        if (setup.DataDirectory is not null)
        {
            builder.AddInMemoryCollection([new($"{LasthopeOptions.Section}:Storage:DataDirectory", setup.DataDirectory)]);
        }

        return builder.Build();
    }

    /// <summary>Kestrel's limits, each set on purpose (see <see cref="LimitsOptions"/>).</summary>
    private static void ConfigureLimits(KestrelServerLimits limits, LasthopeOptions options)
    {
        var set = options.Limits;
        limits.MaxRequestBodySize = options.Ranking.MaxBodyBytes; // model uploads raise it for their own request
        limits.MinRequestBodyDataRate = set.MinBodyBytesPerSecond > 0
            ? new MinDataRate(set.MinBodyBytesPerSecond, TimeSpan.FromSeconds(set.MinBodyRateGraceSeconds))
            : null;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(set.RequestHeadersTimeoutSeconds);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(set.KeepAliveTimeoutSeconds);
        limits.MaxConcurrentConnections = set.MaxConcurrentConnections;
        limits.MaxConcurrentUpgradedConnections = 0; // no WebSockets or other upgrades are served
    }
}
