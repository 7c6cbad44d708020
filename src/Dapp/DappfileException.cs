namespace Dapp;

/// <summary>An invalid dappfile; the message starts with <c>file:line:col:</c>.</summary>
internal class DappfileException : DappException
{
    public DappfileException(SourceLocation location, string message) : base($"{location}: {message}")
    {
        Location = location;
        Reason = message;
    }

    public SourceLocation Location { get; }
    public string Reason { get; }
}
