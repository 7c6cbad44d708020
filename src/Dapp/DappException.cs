namespace Dapp;

/// <summary>A failure caused by the user's input or environment: reported as a message, never a stack trace.</summary>
public class DappException : Exception
{
    public DappException(string message) : base(message) { }
    public DappException(string message, Exception inner) : base(message, inner) { }
}
