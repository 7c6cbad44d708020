namespace Dapp.Transfer;

/// <summary>How stages move between a registry and the engine (--parallel, --transfer).</summary>
public sealed record StagesTransferOptions
{
    public const int DefaultParallel = 4;

    /// <summary>Stage transfers at a time.</summary>
    public int Parallel { get; init; } = DefaultParallel;

    /// <summary>
    /// Pulled stages enter the engine through our client and its load API (<c>--transfer load</c>) instead of the
    /// engine's own pull (the default, measured the faster path here: bench/README.md).
    /// </summary>
    public bool LoadPath { get; init; }
}
