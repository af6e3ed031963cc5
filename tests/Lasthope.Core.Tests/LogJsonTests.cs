using Lasthope.Core.Events;
using Lasthope.Core.Serialization;

namespace Lasthope.Core.Tests;

public sealed class LogJsonTests
{
    [Fact]
    public void FeatureValues_RoundTripBitForBit_NaNAndInfinitiesIncluded()
    {
        double[] values = [0.1, double.NaN, double.PositiveInfinity, -0.0, double.Epsilon, 1e308];
        var ranking = new RankingLog
        {
            RequestId = "r",
            Time = DateTimeOffset.UnixEpoch,
            Segment = "s",
            Surface = "x",
            Items = [],
            Features = new FeatureLog(["a"], ["i", "j", "k", "l", "m", "n"], values),
        };
        var again = LogJson.Deserialize(LogJson.Serialize(ranking));
        Assert.Equal(values.Select(BitConverter.DoubleToInt64Bits), again.Features!.Values.Select(BitConverter.DoubleToInt64Bits));
        Assert.Empty(again.Items);
    }
}
