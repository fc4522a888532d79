import TomeCLI

await runTome()
