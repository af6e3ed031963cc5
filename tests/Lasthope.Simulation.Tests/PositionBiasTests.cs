namespace Lasthope.Simulation.Tests;

public class PositionBiasTests
{
    [Fact]
    public void PowerLaw_ExaminesPositionPWithProbabilityPToTheMinusExponent_UpToTheDepth()
    {
        var bias = PositionBias.PowerLaw(0.7, 50);

        Assert.Equal(1.0, bias.Examination(1));
        Assert.Equal(Math.Pow(10, -0.7), bias.Examination(10), 12);
        Assert.Equal(Math.Pow(50, -0.7), bias.Examination(50), 12);
        Assert.Equal(0.0, bias.Examination(51));
        Assert.Equal(50, bias.Depth);
    }

    [Fact]
    public void Geometric_DecaysByTheContinuationProbability()
    {
        var bias = PositionBias.Geometric(0.8, 5);

        Assert.Equal([1.0, 0.8, 0.64, 0.512, 0.4096], bias.Table.ToArray().Select(e => Math.Round(e, 10)));
        Assert.Equal(0.0, bias.Examination(6));
    }

    [Fact]
    public void FromTable_RejectsProbabilitiesOutsideZeroToOne()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PositionBias.FromTable([1.0, 1.5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PositionBias.FromTable([]));
        Assert.Equal(0.5, PositionBias.FromTable([1.0, 0.5]).Examination(2));
    }

    [Fact]
    public void Examination_RejectsPositionsBelowOne()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PositionBias.Default.Examination(0));
    }
}
