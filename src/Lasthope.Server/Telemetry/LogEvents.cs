namespace Lasthope.Server.Telemetry;

/// <summary>
/// Every log event id of the server, in one place, so that an id is never reused and alerts can rely on them. The
/// thousands are the area: 1 start and state, 2 the impression log, 3 the HTTP edge, 4 models, recommenders and predictors, 5
/// the rank cascade.
/// </summary>
public static class LogEvents
{
    public const int CountersRebuilt = 1001;
    public const int NoPositionCurve = 1002;
    public const int PositionCurveEstimated = 1003;
    public const int CatalogFull = 1004;
    public const int SnapshotLoaded = 1005;
    public const int SnapshotUnusable = 1006;
    public const int SnapshotSaved = 1007;
    public const int SnapshotFailed = 1008;
    public const int FollowFailed = 1009;
    public const int SharedStateConnectionFailed = 1010;
    public const int SharedStateConnectionRestored = 1011;
    public const int RecordSkipped = 1101;
    public const int NoApiKeys = 1102;
    public const int Listening = 1103;

    public const int ImpressionLogWriteFailed = 2001;

    public const int Unhandled = 3001;

    public const int ActiveModelUnusable = 4001;
    public const int ModelActivated = 4002;
    public const int ModelDeactivated = 4003;
    public const int ModelRegistered = 4004;
    public const int ActiveRecommenderUnusable = 4101;
    public const int RecommenderActivated = 4102;
    public const int PopularityRebuildFailed = 4201;
    public const int RecommendModelFailed = 4301;
    public const int RetrainDecided = 4401;
    public const int RetrainTrainedNothing = 4402;
    public const int RetrainFailed = 4403;
    public const int ActivePredictorUnusable = 4501;
    public const int PredictorModelFailed = 4502;
    public const int TextEncoderFailed = 4601;

    public const int StageFailed = 5001;
    public const int ArmModelUnavailable = 5002;
    public const int CircuitOpened = 5003;
    public const int CircuitClosed = 5004;
    public const int ModelShed = 5005;
    public const int LastResortRefreshFailed = 5006;
}
