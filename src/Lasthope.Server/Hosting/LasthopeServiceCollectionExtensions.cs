using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Server.Api;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Experiments;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.Predict;
using Lasthope.Server.Ranking;
using Lasthope.Server.Recommend;
using Lasthope.Server.Security;
using Lasthope.Server.State;
using Lasthope.Server.Stats;
using Lasthope.Server.Telemetry;
using Lasthope.Server.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Lasthope.Server.Hosting;

/// <summary>The server composed by dependency injection: <c>services.AddLasthope(configuration)</c>, then <c>app.MapLasthope()</c>.</summary>
public static class LasthopeServiceCollectionExtensions
{
    /// <summary>
    /// Registers everything the server needs, with its options bound from the <c>Lasthope</c> section of
    /// <paramref name="configuration"/> and validated at start. Stores register themselves (<c>AddSqliteEventStore</c>);
    /// the in-process "memory" store is always there. A <see cref="TimeProvider"/> or an <see cref="IEventStore"/>
    /// registered after this call replaces the default one.
    /// </summary>
    public static IServiceCollection AddLasthope(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LasthopeOptions>().Bind(configuration.GetSection(LasthopeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LasthopeOptions>, LasthopeOptionsValidator>();
        AddSection(services, o => o.Storage);
        AddSection(services, o => o.Counters);
        AddSection(services, o => o.Heuristic);
        AddSection(services, o => o.Segments);
        AddSection(services, o => o.Events);
        AddSection(services, o => o.Ranking);
        AddSection(services, o => o.Serving);
        AddSection(services, o => o.Recommend);
        AddSection(services, o => o.Security);
        AddSection(services, o => o.Limits);
        AddSection(services, o => o.State);
        services.TryAddSingleton(TimeProvider.System);

        // The store: the configured backend's, opened once; every store keeps the models too.
        services.AddSingleton<IEventStoreFactory, InMemoryEventStoreFactory>();
        services.AddSingleton(sp => StoreSelection.Open(sp.GetServices<IEventStoreFactory>(), sp.GetRequiredService<StorageOptions>().Backend, createIfMissing: true));
        services.AddSingleton(sp => StoreSelection.ModelStoreOf(sp.GetRequiredService<IEventStore>()));
        services.AddSingleton(sp => StoreSelection.ItemStoreOf(sp.GetRequiredService<IEventStore>()));

        // State shared by the paths: counters, remembered rankings and segments, the impression log.
        services.AddSingleton<UserSegments>();
        services.AddSingleton(sp => new ItemCatalog(
            sp.GetRequiredService<LimitsOptions>().MaxItems,
            sp.GetRequiredService<ServingOptions>().Surfaces.Values.SelectMany(s => s.ItemFeatures).ToHashSet(StringComparer.Ordinal)));
        services.AddSingleton(sp => new UserHistory(sp.GetRequiredService<LimitsOptions>().MaxHistoryUsers, sp.GetRequiredService<RecommendOptions>().MaxUserEvents));
        services.AddSingleton(sp => new CounterState(sp.GetRequiredService<Counters.CounterOptions>(), sp.GetRequiredService<Counters.HeuristicOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<UserHistory>()));
        services.AddSingleton(sp => new SegmentScheme(sp.GetRequiredService<SegmentOptions>()));
        services.AddSingleton(sp =>
        {
            var state = sp.GetRequiredService<CounterState>();
            return new RecentRankings(sp.GetRequiredService<RankingOptions>().RecentRankings, id => state.Counters.Intern(id));
        });
        services.AddSingleton(sp => new ImpressionLog(sp.GetRequiredService<IEventStore>(), sp.GetRequiredService<RankingOptions>().ImpressionLogCapacity, sp.GetRequiredService<LasthopeMetrics>(), sp.GetRequiredService<ILogger<ImpressionLog>>()));
        services.TryAddSingleton<ISharedState, NoSharedState>();
        services.AddSingleton(sp => new SegmentResolver(sp.GetRequiredService<SegmentScheme>(), sp.GetRequiredService<UserSegments>(), sp.GetRequiredService<IEventStore>(), TimeSpan.FromMilliseconds(sp.GetRequiredService<ServingOptions>().StoreLookupTimeoutMs), sp.GetRequiredService<ISharedState>()));

        // The cascade's parts.
        services.AddSingleton(sp => new SurfaceCatalog(sp.GetRequiredService<ServingOptions>(), sp.GetRequiredService<RecommendOptions>()));
        services.AddSingleton(sp => new ExperimentAssigner(sp.GetRequiredService<ServingOptions>().Experiments));
        services.AddSingleton(sp => DoorLimit.From(sp.GetRequiredService<ServingOptions>()));
        services.AddSingleton(sp => new ScoringGate(sp.GetRequiredService<ServingOptions>().MaxConcurrentRequests, sp.GetRequiredService<DoorLimit>().Limit));
        services.AddSingleton(sp => new FaultInjector(sp.GetRequiredService<ServingOptions>().FaultInjection));
        services.AddSingleton(sp => new FallbackWindow(sp.GetRequiredService<ServingOptions>().FallbackAlarm.WindowSeconds, TimeProvider.System));
        services.AddSingleton<LasthopeMetrics>();
        services.AddSingleton<ServerStarted>();

        // Models and the paths that serve.
        services.AddSingleton(sp => new ModelRegistry(sp.GetRequiredService<IModelStore>(), sp.GetRequiredService<ServingOptions>(), sp.GetRequiredService<RecentRankings>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ModelRegistry>>()));
        services.AddSingleton(sp => new RecommenderRegistry(sp.GetRequiredService<IModelStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RecommenderRegistry>>()));
        services.AddSingleton<PredictorRegistry>();
        services.AddSingleton<IPackageRegistry>(sp => sp.GetRequiredService<PredictorRegistry>());
        services.AddSingleton<TextModelRegistry>();
        services.AddSingleton<IPackageRegistry>(sp => sp.GetRequiredService<TextModelRegistry>());
        services.AddSingleton<EditNeedRegistry>();
        services.AddSingleton<IPackageRegistry>(sp => sp.GetRequiredService<EditNeedRegistry>());
        services.AddSingleton<TextService>();
        services.AddSingleton<PredictionService>();
        services.AddSingleton<PolicyResolver>();
        services.AddSingleton<LastResort>();
        services.AddHostedService(sp => sp.GetRequiredService<LastResort>());
        services.AddSingleton<HeuristicStage>();
        services.AddSingleton<FeatureRows>();
        services.AddSingleton<ModelStage>();
        services.AddSingleton<ServedListBuilder>();
        services.AddSingleton<RankRecorder>();
        services.AddSingleton<RankingService>();
        services.AddSingleton<PopularityIndex>();
        services.AddSingleton<RecommendationService>();
        services.AddSingleton(sp => new EventIngestor(
            sp.GetRequiredService<IEventStore>(), sp.GetRequiredService<CounterState>(), sp.GetRequiredService<RecentRankings>(), sp.GetRequiredService<UserSegments>(),
            sp.GetRequiredService<EventTypeOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<LasthopeMetrics>(), shared: sp.GetRequiredService<ISharedState>()));
        services.AddSingleton<ItemIngestor>();
        services.AddSingleton<ItemStatsService>();
        services.AddSingleton<ExperimentReports>();

        // Start, background work, stop: the warm start first, then the log writer and the popularity lists.
        services.AddHostedService<WarmStart>();
        services.AddHostedService(sp => sp.GetRequiredService<ImpressionLog>());
        services.AddSingleton<LogFollower>();
        services.AddHostedService(sp => sp.GetRequiredService<LogFollower>());
        services.AddHostedService(sp => sp.GetRequiredService<PopularityIndex>());

        // The HTTP edge.
        services.AddSingleton<ModelUploadGate>();
        services.AddApiKeys();
        services.AddClientRateLimits();
        services.AddLasthopeOpenApi();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemExceptionHandler.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store", tags: [HealthApi.ReadyTag])
            .AddCheck<FallbackRateHealthCheck>("fallback_rate", tags: [HealthApi.ReadyTag]);
        // Metrics for /metrics always; traces and metrics over OTLP only when a collector is configured, so that a
        // server without one records no spans at all.
        var telemetry = configuration.GetSection($"{LasthopeOptions.Section}:Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otlp = telemetry.OtlpEndpoint is { } endpoint && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri : null;
        var openTelemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(telemetry.ServiceName, serviceVersion: StatusApi.Version))
            .WithMetrics(m =>
            {
                m.AddMeter(LasthopeMetrics.MeterName).AddMeter("Microsoft.AspNetCore.Hosting").AddPrometheusExporter();
                if (otlp is not null)
                {
                    m.AddOtlpExporter(o => o.Endpoint = otlp);
                }
            });
        if (otlp is not null)
        {
            openTelemetry.WithTracing(t => t.AddSource(LasthopeActivity.SourceName).AddOtlpExporter(o => o.Endpoint = otlp));
        }

        return services;
    }

    /// <summary>The middleware, in the order the README's security section describes, and every endpoint.</summary>
    public static WebApplication MapLasthope(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // First of all: the moment a request arrives (BodyReadAhead moves it to when the body is complete).
        app.Use(static (context, next) =>
        {
            context.Items[RankApi.ArrivalKey] = System.Diagnostics.Stopwatch.GetTimestamp();
            return next(context);
        });
        var metrics = app.Services.GetRequiredService<LasthopeMetrics>();
        var window = app.Services.GetRequiredService<FallbackWindow>();
        metrics.ObserveFallbackRate(() => window.Rate);
        if (app.Services.GetRequiredService<DoorLimit>().Limit is { } door)
        {
            metrics.ObserveDoor(() => door.Limit, () => door.AverageWaitMs);
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter(); // per-client limits on events and administration, before any body is read
        app.UseMiddleware<BodyReadAhead>(); // JSON bodies whole, under a deadline
        app.UseMiddleware<ServingDoor>(); // then the door, which a slow sender can no longer hold
        var v1 = app.MapGroup("/v1").WithSharedProblems();
        v1.MapRankApi();
        v1.MapEventsApi();
        v1.MapItemsApi();
        v1.MapStatusApi();
        v1.MapExperimentsApi();
        v1.MapModelsApi();
        v1.MapExplainApi();
        v1.MapRecommendApi();
        v1.MapPredictApi();
        v1.MapTextApi();
        app.MapHealthApi();
        app.MapLasthopeContract();
        var metricsEndpoint = app.MapPrometheusScrapingEndpoint("/metrics");
        if (app.Services.GetRequiredService<SecurityOptions>().ProtectMetrics)
        {
            metricsEndpoint.RequireAuthorization(AccessRules.AnyKey);
        }
        else
        {
            metricsEndpoint.AllowAnonymous();
        }

        // Build every endpoint now, so that a wiring mistake stops the start instead of failing each request.
        _ = ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).Count();
        return app;
    }

    private static void AddSection<T>(IServiceCollection services, Func<LasthopeOptions, T> section)
        where T : class
        => services.AddSingleton(sp => section(sp.GetRequiredService<IOptions<LasthopeOptions>>().Value));
}
