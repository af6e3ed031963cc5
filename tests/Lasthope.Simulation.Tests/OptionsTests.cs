namespace Lasthope.Simulation.Tests;

public class OptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndReproducible()
    {
        var options = new SimulationOptions();

        options.Validate();
        Assert.Equal(SimulationOptions.DefaultStartTime, options.StartTime);
        Assert.Equal(TimeSpan.Zero, options.StartTime.Offset);
        Assert.Equal(200, options.CandidatesPerRequest);
        Assert.Equal(10, new Core.Segments.SegmentScheme(options.Segments).GridSegments.Count);
    }

    public static TheoryData<SimulationOptions, string> InvalidOptions => new()
    {
        { new SimulationOptions { InitialItemCount = 0 }, nameof(SimulationOptions.InitialItemCount) },
        { new SimulationOptions { NewItemsPerDay = -1 }, nameof(SimulationOptions.NewItemsPerDay) },
        { new SimulationOptions { UserCount = 0 }, nameof(SimulationOptions.UserCount) },
        { new SimulationOptions { UnknownUserFraction = 1.0 }, nameof(SimulationOptions.UnknownUserFraction) },
        { new SimulationOptions { CandidatesPerRequest = 0 }, nameof(SimulationOptions.CandidatesPerRequest) },
        { new SimulationOptions { CandidatesPerRequest = 10_001 }, nameof(SimulationOptions.CandidatesPerRequest) },
        { new SimulationOptions { RequestsPerDay = 0 }, nameof(SimulationOptions.RequestsPerDay) },
        { new SimulationOptions { BaselineCtr = 0 }, nameof(SimulationOptions.BaselineCtr) },
        { new SimulationOptions { BaselineCtr = 0.9 }, nameof(SimulationOptions.BaselineCtr) },
        { new SimulationOptions { DriftStrength = double.NaN }, nameof(SimulationOptions.DriftStrength) },
        { new SimulationOptions { DailyCycleAmplitude = 1.0 }, nameof(SimulationOptions.DailyCycleAmplitude) },
        { new SimulationOptions { NoveltyDays = 0 }, nameof(SimulationOptions.NoveltyDays) },
        { new SimulationOptions { ItemLifetime = TimeSpan.FromHours(1) }, nameof(SimulationOptions.ItemLifetime) },
        { new SimulationOptions { InitialItemAgeSpan = TimeSpan.FromDays(-1) }, nameof(SimulationOptions.InitialItemAgeSpan) },
        { new SimulationOptions { StartTime = new DateTimeOffset(2025, 1, 6, 0, 0, 0, TimeSpan.FromHours(2)) }, nameof(SimulationOptions.StartTime) },
        { new SimulationOptions { PositionBias = null! }, nameof(SimulationOptions.PositionBias) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_NamesTheOffendingSetting(SimulationOptions options, string setting)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(setting, error.ParamName);
    }

    [Fact]
    public void Generator_ValidatesItsOptions()
    {
        Assert.Throws<ArgumentException>(() => new TrafficGenerator(new SimulationOptions { UserCount = 0 }));
    }

    [Fact]
    public void Generator_RejectsASegmentGridItsUsersCannotResolveTo()
    {
        // SegmentScheme reads "female" as f, so this grid would hold a segment no user resolves to.
        var options = new SimulationOptions { Segments = new Core.Segments.SegmentOptions { Genders = ["f", "female", "m"] } };

        var error = Assert.Throws<ArgumentException>(() => new TrafficGenerator(options));
        Assert.Contains("Segments", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generator_AcceptsAGridNamedByTheLongWords()
    {
        var options = new SimulationOptions { Segments = new Core.Segments.SegmentOptions { Genders = ["female", "male"] } };

        var generator = new TrafficGenerator(options);

        Assert.Contains("f:25-34", generator.Segments);
        Assert.Equal(10, generator.Users.Select(u => u.TrueSegment).Distinct().Count());
    }

    [Fact]
    public void Generator_DrawsUsersOverACustomGrid()
    {
        var options = new SimulationOptions { Segments = new Core.Segments.SegmentOptions { AgeBands = [0, 30, 50], Genders = ["f", "m", "x"] } };
        var generator = new TrafficGenerator(options);

        Assert.Equal(10, generator.Segments.Count); // 3 x 3 + unknown
        Assert.Equal(9, generator.Users.Select(u => u.TrueSegment).Distinct().Count());
        Assert.Equal(10, generator.TrueTop("x:50+", generator.StartOfDay(0), 10).Count);
    }
}
