function mpc = case5_radial
%CASE5_RADIAL  A 5-bus radial 12.66 kV feeder (MATPOWER case format version 2), for gplopt's import tests.
%   Bus 1 is the substation (slack, 1.02 pu); branches 1-2-3-4 and 2-5. Branch 2-3 has line charging and
%   bus 4 a 150 kvar capacitor bank (Bs), so the import keeps shunts from both sources.

%% MATPOWER Case Format : Version 2
mpc.version = '2';

%%-----  Power Flow Data  -----%%
%% system MVA base
mpc.baseMVA = 10;

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1.02	0	12.66	1	1.1	0.9;
	2	1	0.4	0.2	0	0	1	1	0	12.66	1	1.1	0.9;
	3	1	0.6	0.25	0	0	1	1	0	12.66	1	1.1	0.9;
	4	1	0.5	0.3	0	0.15	1	1	0	12.66	1	1.1	0.9;
	5	1	0.3	0.1	0	0	1	1	0	12.66	1	1.1	0.9;
];

%% generator data
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	0	0	10	-10	1.02	10	1	10	0;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.0058	0.0029	0	6	6	6	0	0	1	-360	360;
	2	3	0.0308	0.0157	0.002	4	4	4	0	0	1	-360	360;
	3	4	0.0228	0.0116	0	3	3	3	0	0	1	-360	360;
	2	5	0.0238	0.0121	0	2	2	2	0	0	1	-360	360;
];
