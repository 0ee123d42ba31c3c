import discord

intents = discord.Intents.default()
client = discord.Client(intents=intents)
client.run("NzQ1OTcxMjkyMzgwOTk4NzY2Mw.pdWUc6.2uX8u1TeAcPs_SFdtPW_oCVgduu")
# second bot: Njc1OTE2MDA2MzI0MjcxOTMyMQ.uIRKh8.dM_V3jnf-4b8zIscZR4h0DjLM7W
# tokens = ['NDI1MDY3MDc1NjMyMzQ3MzYyNg.VciJne.CLsgoyGMARqCNdiLzgOadz0pfo5RaerX-Sdfe8', 'MjA4MDk2NDkyNjk1Nzk0MjM1Mw.Vtrvch.vPDQOf43aQ1QTsrtVyohxCxptXfg4FMqbBfcJA']
