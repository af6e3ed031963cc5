using System.Runtime;
using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Server.Api;
using Lasthope.Server.Cascade;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.Recommend;
using Lasthope.Server.Ranking;
using Lasthope.Server.Security;
using Lasthope.Server.Telemetry;
using Lasthope.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Lasthope.Server.State;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Hosting;

/// <summary>How to start a <see cref="LasthopeServer"/>. Everything is optional.</summary>
public sealed class ServerSetup
{
    /// <summary>Where to listen. Default http://127.0.0.1:8080; port 0 picks a free port (see <see cref="LasthopeServer.BaseAddress"/>).</summary>
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

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>
/// The Lasthope service as a class: the CLI's <c>serve</c> and <c>demo</c>, the tests and the benchmarks all host it
/// in-process. Start opens the store, rebuilds the counters from its log, then listens.
/// </summary>
public sealed partial class LasthopeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IEventStore? _ownedStore;

    private LasthopeServer(WebApplication app, IEventStore? ownedStore, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        _ownedStore = ownedStore;
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
        var configuration = BuildConfiguration(setup);
        var options = configuration.GetSection(LasthopeOptions.Section).Get<LasthopeOptions>() ?? new LasthopeOptions();
        options.Validate();
        return options;
    }

    /// <summary>
    /// Opens the configured store (the embedded SQLite store by default), which must exist: tools that read a data
    /// directory create nothing (<see cref="StoreNotFoundException"/> when there is none).
    /// </summary>
    public static Task<IEventStore> OpenStoreAsync(LasthopeOptions options, CancellationToken cancellationToken = default)
        => OpenStoreAsync(options, createIfMissing: false, cancellationToken);

    /// <summary>Opens the configured store, creating it when <paramref name="createIfMissing"/> (the server, import).</summary>
    public static async Task<IEventStore> OpenStoreAsync(LasthopeOptions options, bool createIfMissing, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Storage.Backend switch
        {
            "memory" => new InMemoryEventStore(),
            _ => await SqliteEventStore.OpenAsync(
                new SqliteStoreOptions { DataDirectory = options.Storage.DataDirectory, Durability = options.Storage.Durability, CreateIfMissing = createIfMissing },
                cancellationToken),
        };
    }

    public static async Task<LasthopeServer> StartAsync(ServerSetup setup, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = LoadOptions(setup);
        var addresses = ListenAddresses.Parse(setup.Urls);
        ListenAddresses.EnsureAllowed(addresses, options.Security);
        var time = setup.Time ?? TimeProvider.System;
        if (options.Serving.MinThreads > 0)
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, options.Serving.MinThreads), Math.Max(io, options.Serving.MinThreads));
        }

        if (options.Serving.SustainedLowLatencyGc)
        {
            GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency; // process-wide; ignored where concurrent GC is off
        }

        var store = setup.Store ?? await OpenStoreAsync(options, createIfMissing: true, cancellationToken);
        var owned = setup.Store is null ? store : null;
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Configuration.AddConfiguration(BuildConfiguration(setup));
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.SetMinimumLevel(setup.MinimumLogLevel);
            builder.WebHost.UseUrls(setup.Urls);
            builder.WebHost.ConfigureKestrel(k => ConfigureLimits(k.Limits, options));

            var users = new UserSegments();
            using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(setup.MinimumLogLevel));
            var startLogger = loggerFactory.CreateLogger<LasthopeServer>();
            store.Skipped.Skipped += record => LogSkipped(startLogger, record.Kind, record.Sequence, record.Reason);
            if (!options.Security.KeysConfigured)
            {
                LogNoKeys(startLogger, string.Join(", ", addresses.Select(a => a.OriginalString)));
            }

            var state = await CounterState.LoadAsync(store, options, time, users, loggerFactory.CreateLogger<CounterState>(), cancellationToken);

            var recent = new RecentRankings(options.Ranking.RecentRankings, state.Counters.Intern);
            var modelStore = ModelStoreOf(store);
            var models = new ModelRegistry(modelStore, options.Serving, recent, time, loggerFactory.CreateLogger<ModelRegistry>());
            await models.LoadActiveAsync(cancellationToken);
            var recommenders = new RecommenderRegistry(modelStore, time, loggerFactory.CreateLogger<RecommenderRegistry>());
            await recommenders.LoadActiveAsync(cancellationToken);
            ConfigureServices(builder.Services, options, time, store, modelStore, users, state, recent, models, recommenders);
            var app = builder.Build();
            MapEndpoints(app);

            // Build every endpoint now, so that a wiring mistake stops the start instead of failing each request.
            _ = ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).Count();
            await app.StartAsync(cancellationToken);
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();
            return new LasthopeServer(app, owned, [.. bound.Select(a => new Uri(a))]);
        }
        catch
        {
            if (owned is not null)
            {
                await owned.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Stops listening, drains the impression log into the store, and closes a store the server opened.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
    }

    /// <summary>Waits until the host shuts down (Ctrl+C or SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(_app, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownedStore is not null)
        {
            await _ownedStore.DisposeAsync();
        }
    }

    /// <summary>The store's model side; a store without one gets an in-memory model store (models then need re-registering after a restart).</summary>
    private static IModelStore ModelStoreOf(IEventStore store) => store as IModelStore ?? new InMemoryEventStore();

    private static void ConfigureServices(
        IServiceCollection services, LasthopeOptions options, TimeProvider time, IEventStore store, IModelStore modelStore, UserSegments users, CounterState state, RecentRankings recent, ModelRegistry models, RecommenderRegistry recommenders)
    {
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        services.AddSingleton(time);
        services.AddSingleton(store);
        services.AddSingleton(modelStore);
        services.AddSingleton(users);
        services.AddSingleton(state);
        services.AddSingleton(new SegmentScheme(options.Segments));
        services.AddSingleton(options.Events);
        services.AddSingleton(recent);
        services.AddSingleton(models);
        services.AddSingleton(options.Serving);
        services.AddSingleton(new ExperimentAssigner(options.Serving.Experiments));
        services.AddSingleton(new ScoringGate(options.Serving.MaxConcurrentRequests));
        services.AddSingleton(new FaultInjector(options.Serving.FaultInjection));
        services.AddSingleton(new FallbackWindow(options.Serving.FallbackAlarm.WindowSeconds, TimeProvider.System));
        services.AddSingleton<LasthopeMetrics>();
        services.AddSingleton(new ServerStarted());
        services.AddSingleton(sp => new ImpressionLog(sp.GetRequiredService<IEventStore>(), options.Ranking.ImpressionLogCapacity, sp.GetRequiredService<LasthopeMetrics>(), sp.GetRequiredService<ILogger<ImpressionLog>>()));
        services.AddHostedService(sp => sp.GetRequiredService<ImpressionLog>());
        services.AddSingleton<EventIngestor>();
        services.AddSingleton(sp => new SegmentResolver(sp.GetRequiredService<SegmentScheme>(), sp.GetRequiredService<UserSegments>(), sp.GetRequiredService<IEventStore>(), TimeSpan.FromMilliseconds(options.Serving.StoreLookupTimeoutMs)));
        services.AddSingleton(options.Recommend);
        services.AddSingleton(options.Ranking);
        services.AddSingleton(options.Limits);
        services.AddSingleton(new SurfaceCatalog(options.Serving, options.Recommend));
        services.AddSingleton<ModelUploadGate>();
        services.AddApiKeys(options.Security);
        services.AddClientRateLimits(options.Security.RateLimits);
        services.AddSingleton(recommenders);
        services.AddSingleton<PopularityIndex>();
        services.AddHostedService(sp => sp.GetRequiredService<PopularityIndex>());
        services.AddSingleton<RecommendationService>();
        services.AddSingleton<PolicyResolver>();
        services.AddSingleton<HeuristicStage>();
        services.AddSingleton<FeatureRows>();
        services.AddSingleton<ModelStage>();
        services.AddSingleton<ServedListBuilder>();
        services.AddSingleton<RankRecorder>();
        services.AddSingleton<RankingService>();
        services.AddSingleton<Stats.ItemStatsService>();

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemExceptionHandler.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store", tags: [HealthApi.ReadyTag])
            .AddCheck<FallbackRateHealthCheck>("fallback_rate", tags: [HealthApi.ReadyTag]);
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("lasthope", serviceVersion: StatusApi.Version))
            .WithMetrics(m => m
            .AddMeter(LasthopeMetrics.MeterName)
            .AddMeter("Microsoft.AspNetCore.Hosting")
            .AddPrometheusExporter());
    }

    private static void MapEndpoints(WebApplication app)
    {
        // First of all: the moment a request arrives, which its budget counts from.
        app.Use((context, next) =>
        {
            context.Items[RankApi.ArrivalKey] = System.Diagnostics.Stopwatch.GetTimestamp();
            return next(context);
        });
        var metrics = app.Services.GetRequiredService<LasthopeMetrics>();
        var window = app.Services.GetRequiredService<FallbackWindow>();
        metrics.ObserveFallbackRate(() => window.Rate);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter(); // per-client limits on events and administration, before any body is read
        app.UseMiddleware<BodyReadAhead>(); // JSON bodies whole, under a deadline
        app.UseMiddleware<ServingDoor>(); // then the door, which a slow sender can no longer hold
        app.MapRankApi();
        app.MapEventsApi();
        app.MapItemsApi();
        app.MapStatusApi();
        app.MapModelsApi();
        app.MapExplainApi();
        app.MapRecommendApi();
        app.MapHealthApi();
        var metricsEndpoint = app.MapPrometheusScrapingEndpoint("/metrics");
        if (app.Services.GetRequiredService<SecurityOptions>().ProtectMetrics)
        {
            metricsEndpoint.RequireAuthorization(AccessRules.AnyKey);
        }
        else
        {
            metricsEndpoint.AllowAnonymous();
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
    private static void ConfigureLimits(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits, LasthopeOptions options)
    {
        var set = options.Limits;
        limits.MaxRequestBodySize = options.Ranking.MaxBodyBytes; // model uploads raise it for their own request
        limits.MinRequestBodyDataRate = set.MinBodyBytesPerSecond > 0
            ? new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(set.MinBodyBytesPerSecond, TimeSpan.FromSeconds(set.MinBodyRateGraceSeconds))
            : null;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(set.RequestHeadersTimeoutSeconds);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(set.KeepAliveTimeoutSeconds);
        limits.MaxConcurrentConnections = set.MaxConcurrentConnections;
        limits.MaxConcurrentUpgradedConnections = 0; // no WebSockets or other upgrades are served
    }

    [LoggerMessage(EventId = LogEvents.RecordSkipped, Level = LogLevel.Warning, Message = "The store skipped a {Kind} it could not decode, at sequence {Sequence}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string kind, long sequence, string reason);

    [LoggerMessage(EventId = LogEvents.NoApiKeys, Level = LogLevel.Warning, Message = "No API keys are configured: every request is allowed, so Lasthope listens only on loopback ({Addresses}). Configure Lasthope:Security:ApiKeys before exposing it.")]
    private static partial void LogNoKeys(ILogger logger, string addresses);
}
