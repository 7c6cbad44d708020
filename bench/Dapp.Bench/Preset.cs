namespace Dapp.Bench;

/// <summary>The shape of a generated project: dimgs, stages per dimg, data per stage and how much of it compresses.</summary>
public sealed record Preset(string Name, int Dimgs, int StagesPerDimg, long BytesPerDataStage, double Incompressible)
{
    /// <summary>≈ the table: 4 dimgs × 6 stages, ~360 MB compressed, ~530 MB unpacked.</summary>
    public static Preset Default => new("default", 4, 6, 33L << 20, 0.66);

    /// <summary>Many small stages: per-request and per-image overheads dominate.</summary>
    public static Preset Small => new("small", 20, 10, 4 << 10, 0.5);

    public static Preset Large => new("large", 4, 6, 96L << 20, 0.66);

    public static Preset Named(string name) => name switch
    {
        "default" => Default,
        "small" => Small,
        "large" => Large,
        _ => throw new ArgumentException($"unknown preset '{name}' (default, small, large)"),
    };
}
