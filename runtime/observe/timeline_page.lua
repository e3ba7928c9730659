-- timeline_page.lua -- the replay page of --timeline=FILE.html: one HTML file
-- with its style and script inline (no network), returned as a string in
-- which timeline.lua puts the record as JSON at the /*DATA*/ slot.
-- The script rebuilds the lanes from the events (the SVG's look), draws who
-- woke whom, and replays the run step by step: at each step the ready queue
-- (in the order tasks became ready), the timers, the holders and waiters of
-- every lock and semaphore, and every task's wait. Data: {virtual, duration,
-- incomplete, names = [[id, name]], events = [[time, task, state, waker,
-- wait, where, deadline, on]], holders = [[step, primitive, kind, [ids],
-- more]]} (steps count from 1; `on`: the primitive a task waits on).
return [==[<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>asched timeline</title>
<style>
body{font:13px system-ui,sans-serif;margin:12px;color:#222}
h1{font-size:16px;margin:0 0 6px}
#bar{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #ddd;z-index:2}
#bar button{min-width:2.2em}
#scrub{width:60%;vertical-align:middle}
#now{font-family:monospace;margin-top:4px}
#lanes{overflow-x:auto}
svg text{font:12px monospace}
.lane:hover .bg{fill:#f4f4f4}
.cur text.name{font-weight:bold;fill:#d62728}
.arrow{fill:none;stroke:#555;stroke-width:1;opacity:.55}
.arrow.spawn{stroke-dasharray:3 3;opacity:.35}
#tip{position:fixed;display:none;background:#ffe;border:1px solid #999;padding:4px 6px;font:12px monospace;pointer-events:none;white-space:pre;z-index:3}
#panels{display:grid;grid-template-columns:1fr 1fr 1.3fr;gap:12px;margin-top:8px}
#panels h2{font-size:13px;margin:4px 0}
#panels ol,#panels ul{margin:0;padding-left:1.6em;font-family:monospace}
table{border-collapse:collapse;font-family:monospace;font-size:12px}
td,th{border-bottom:1px solid #eee;padding:1px 6px;text-align:left;white-space:nowrap}
tr.cur{background:#fde}
.note{color:#777;font-size:11px}
#error{color:#b00;font-weight:bold}
</style></head><body>
<script>window.onerror=function(m,s,l){var d=document.createElement("div");d.id="error";d.textContent="page error: "+m+" (line "+l+")";document.body.prepend(d)};</script>
<h1 id="title">asched timeline</h1>
<div id="bar">
<button id="first" title="to the start">&#x21E4;</button><button id="back" title="one step back">&#x2039;</button><button id="play" title="play / pause">&#x25B6;</button><button id="fwd" title="one step on">&#x203A;</button>
<input id="scrub" type="range" min="0" value="0" step="1">
<select id="speed" title="time per step"><option value="1000">1 s/step</option><option value="400" selected>0.4 s/step</option><option value="100">0.1 s/step</option></select>
<label><input id="arrows" type="checkbox" checked> wake arrows</label>
<div id="now"></div>
</div>
<div id="lanes"></div>
<div id="panels">
<div><h2>Ready queue</h2><ol id="ready"></ol><h2>Timers</h2><ul id="timers"></ul></div>
<div><h2>Held</h2><ul id="held"></ul><p class="note">Each lock and semaphore while a task holds it or waits on it, numbered in the order it was first taken or waited on.</p></div>
<div><h2>Every task's wait</h2><table><thead><tr><th>task</th><th>state</th><th>waits on</th><th>at</th></tr></thead><tbody id="waits"></tbody></table></div>
</div>
<div id="tip"></div>
<script>
var D=/*DATA*/;
(function(){
"use strict";
var COLOURS={running:"#d62728",ready:"#ff7f0e",awaiting:"#1f77b4","task group":"#9ecae1",semaphore:"#9467bd",bounded_semaphore:"#9467bd",lock:"#8c564b",event:"#e377c2",condition:"#bcbd22","queue get":"#17becf","queue put":"#17becf","queue join":"#17becf",thread:"#2ca02c",io:"#393b79","console input":"#7f7f7f",sleeping:"#c7c7c7",done:"#2ca02c",failed:"#7f0000",cancelled:"#000000"};
var ENDS={done:1,failed:1,cancelled:1};
var E=D.events, N=E.length, NS="http://www.w3.org/2000/svg";
function $(id){return document.getElementById(id)}
function el(tag,attrs,text,ns){var e=ns?document.createElementNS(NS,tag):document.createElement(tag);for(var k in attrs||{})e.setAttribute(k,attrs[k]);if(text!=null)e.textContent=text;return e}
function secs(t){if(t==null)return "?";if(t===0)return "0";if(t>=100)return t.toFixed(0)+" s";if(t<1)return +(t*1000).toFixed(1)+" ms";return +t.toFixed(3)+" s"}

// ---- the tasks, their spans and their parents (who spawned them) ----
var tasks={}, order=[];
D.names.forEach(function(p){tasks[p[0]]={id:p[0],name:p[1],parent:null,spans:[],kids:[]}});
function nameOf(id){return tasks[id]?tasks[id].name:"task-"+id}
E.forEach(function(e,i){
  var t=tasks[e[1]], open=t.spans[t.spans.length-1];
  if(t.parent===null)t.parent=e[3]||0;
  if(open&&open.to==null){open.to=e[0];open.end=i+1}
  if(ENDS[e[2]]){t.finish=e[0];t.ending=e[2];t.endStep=i+1}
  else if(!t.ending)t.spans.push({task:t,s:e[2],from:e[0],step:i+1,waker:e[3],wait:e[4],where:e[5],deadline:e[6]});
});
Object.keys(tasks).forEach(function(id){var t=tasks[id];t.spans.forEach(function(s,j){if(s.to==null)s.to=D.duration;if(s.s==="running"){var n=t.spans[j+1];s.next=n&&n.where}})});
// Grouped by parent: each task under the task that spawned it, in id order.
Object.keys(tasks).map(Number).sort(function(a,b){return a-b}).forEach(function(id){var t=tasks[id];if(t.parent&&tasks[t.parent]&&t.parent!==id)tasks[t.parent].kids.push(t);else t.root=true});
(function walk(list,depth){list.forEach(function(t){t.depth=depth;order.push(t);walk(t.kids,depth+1)})})(Object.keys(tasks).map(Number).sort(function(a,b){return a-b}).map(function(id){return tasks[id]}).filter(function(t){return t.root}),0);

// ---- the lanes ----
var left=190, plotW=Math.max(500,Math.min(1400,(window.innerWidth||1200)-left-90)), top=34, laneH=18;
var scale=plotW/Math.max(D.duration,1e-9), H=top+order.length*laneH+20;
function x(t){return left+t*scale}
var svg=el("svg",{width:left+plotW+40,height:H,id:"svg"},null,true);
var defs=el("defs",{},null,true), mk=el("marker",{id:"head",viewBox:"0 0 6 6",refX:"6",refY:"3",markerWidth:"6",markerHeight:"6",orient:"auto"},null,true);
mk.appendChild(el("path",{d:"M0,0L6,3L0,6z",fill:"#555"},null,true));defs.appendChild(mk);svg.appendChild(defs);
var tick=niceStep(Math.max(D.duration,1e-9)/10);
function niceStep(v){var p=Math.pow(10,Math.floor(Math.log10(v)));var ms=[1,2,2.5,5,10];for(var i=0;i<ms.length;i++)if(ms[i]*p>=v*(1-1e-9))return ms[i]*p;return 10*p}
for(var i=0;i<=Math.floor(D.duration/tick+1e-9);i++){svg.appendChild(el("line",{x1:x(i*tick),x2:x(i*tick),y1:top-6,y2:H-16,stroke:"#eee"},null,true));svg.appendChild(el("text",{x:x(i*tick),y:top-10,"text-anchor":"middle",fill:"#555"},secs(i*tick),true))}
var flat=[], laneY={};
order.forEach(function(t,row){
  var y=top+row*laneH, g=el("g",{"class":"lane","data-task":t.id},null,true);
  laneY[t.id]=y+laneH/2; t.g=g;
  g.appendChild(el("rect",{"class":"bg",x:0,y:y,width:left+plotW+40,height:laneH,fill:row%2?"#fafafa":"#fff"},null,true));
  if(t.depth)g.appendChild(el("line",{x1:4+t.depth*10,x2:4+t.depth*10,y1:y,y2:y+laneH,stroke:"#bbb"},null,true));
  var label=el("text",{"class":"name",x:8+t.depth*10,y:y+13},t.name.slice(0,22),true);
  label.appendChild(el("title",{},t.name+(t.parent?" (spawned by "+nameOf(t.parent)+")":""),true));g.appendChild(label);
  // turns last, so a turn that takes no time shows over its neighbours
  t.spans.filter(function(s){return s.s!=="running"}).concat(t.spans.filter(function(s){return s.s==="running"})).forEach(function(s){
    var w=Math.max((s.to-s.from)*scale,s.s==="running"?2:(s.s==="ready"?1:0));if(w<=0)return;
    g.appendChild(el("rect",{"class":"span",x:x(s.from),y:y+3,width:w,height:laneH-6,fill:COLOURS[s.s]||"#7f7f7f","data-i":flat.length},null,true));flat.push(s)});
  if(t.ending){var r=el("rect",{x:x(t.finish),y:y+1,width:3,height:laneH-2,fill:COLOURS[t.ending],"data-end":t.id},null,true);g.appendChild(r);if(t.ending!=="done")g.appendChild(el("text",{x:x(t.finish)+6,y:y+12,fill:COLOURS[t.ending],"font-size":"10"},t.ending,true))}
  svg.appendChild(g)});
// Who woke whom: an arrow from the waker's lane to the woken task's lane at
// the instant it became ready; dashed when the "waking" was the spawn.
var arrows=el("g",{id:"wakes"},null,true);
order.forEach(function(t){t.spans.forEach(function(s,j){
  if(s.s!=="ready"||!s.waker||laneY[s.waker]==null)return;
  var x0=x(s.from), y0=laneY[s.waker], y1=laneY[t.id], bend=Math.min(40,8+Math.abs(y1-y0)/4);
  var p=el("path",{"class":"arrow"+(j===0?" spawn":""),d:"M"+x0+","+y0+" C"+(x0+bend)+","+y0+" "+(x0+bend)+","+y1+" "+(x0+1)+","+y1,"marker-end":"url(#head)"},null,true);
  p.appendChild(el("title",{},(j===0?nameOf(s.waker)+" spawned ":nameOf(s.waker)+" woke ")+t.name+" at "+secs(s.from),true));arrows.appendChild(p)})});
svg.appendChild(arrows);
var cursor=el("line",{id:"cursor",y1:top-4,y2:H-16,stroke:"#d62728","stroke-width":1.5},null,true);svg.appendChild(cursor);
$("lanes").appendChild(svg);
$("arrows").onchange=function(){arrows.style.display=this.checked?"":"none"};
$("title").textContent="asched timeline: "+order.length+" task"+(order.length===1?"":"s")+" over "+secs(D.duration)+" ("+(D.virtual?"virtual":"real")+" time), "+N+" steps"+(D.incomplete?" (incomplete record)":"");

// ---- hover: a span's state, duration and line ----
var tip=$("tip");
svg.addEventListener("mousemove",function(ev){
  var i=ev.target.getAttribute&&ev.target.getAttribute("data-i");
  if(i==null){tip.style.display="none";return}
  var s=flat[+i], lines=[s.task.name+": "+s.s,"from "+secs(s.from)+" to "+secs(s.to)+" ("+secs(s.to-s.from)+")"];
  if(s.wait)lines.push(s.wait);
  if(s.where)lines.push("at "+s.where);
  if(s.s==="running"&&s.next)lines.push("then waits at "+s.next);
  if(s.s==="ready")lines.push(s.waker?(s===s.task.spans[0]?"spawned by ":"woken by ")+nameOf(s.waker):"woken by a timer or I/O");
  tip.textContent=lines.join("\n");tip.style.display="block";tip.style.left=(ev.clientX+12)+"px";tip.style.top=(ev.clientY+12)+"px"});
svg.addEventListener("mouseleave",function(){tip.style.display="none"});

// ---- the replay: the state of every task after `k` steps ----
function stateAt(k){
  var st={}, i;
  for(i=0;i<k;i++){var e=E[i], s=st[e[1]]||(st[e[1]]={});
    if(e[2]==="ready"&&s.s!=="ready")s.readyStep=i+1;
    s.s=e[2];s.step=i+1;s.waker=e[3];s.wait=e[4];s.where=e[5]||s.where;s.deadline=e[6];s.on=e[7]}
  return st}
// the holders of each lock and semaphore after `k` steps: number -> [step, number, kind, ids, more]
function heldAt(k){
  var held={};
  D.holders.forEach(function(h){if(h[0]<=k)held[h[1]]=h});
  return held}
function li(list,text){list.appendChild(el("li",{},text))}
function show(k){
  k=Math.max(0,Math.min(N,k|0));$("scrub").value=k;
  var st=stateAt(k), e=E[k-1], now=e?e[0]:0;
  cursor.setAttribute("x1",x(now));cursor.setAttribute("x2",x(now));
  $("now").textContent="step "+k+" of "+N+" at "+secs(now)+(e?": "+nameOf(e[1])+" is "+e[2]+(e[2]==="ready"?(e[3]?" (woken by "+nameOf(e[3])+")":" (by a timer or I/O)"):"")+(e[4]?", "+e[4]:""):": before the first step");
  order.forEach(function(t){t.g.setAttribute("class","lane"+(e&&e[1]===t.id?" cur":""))});
  var ready=$("ready"), timers=$("timers"), held=$("held"), waits=$("waits");
  ready.textContent=timers.textContent=held.textContent=waits.textContent="";
  var ids=Object.keys(st).map(Number);
  ids.filter(function(id){return st[id].s==="ready"}).sort(function(a,b){return st[a].readyStep-st[b].readyStep}).forEach(function(id){
    var s=st[id];li(ready,nameOf(id)+(s.waker?" \u2190 "+nameOf(s.waker):" \u2190 timer/I-O"))});
  if(!ready.firstChild)li(ready,"(empty)");
  ids.filter(function(id){return st[id].deadline!=null&&!ENDS[st[id].s]&&st[id].s!=="ready"&&st[id].s!=="running"}).sort(function(a,b){return st[a].deadline-st[b].deadline||a-b}).forEach(function(id){
    li(timers,nameOf(id)+" until "+secs(st[id].deadline)+" ("+st[id].s+")")});
  if(!timers.firstChild)li(timers,"(none)");
  var owned=heldAt(k), waiting={};
  ids.forEach(function(id){var s=st[id];if(s.on&&!ENDS[s.s]&&s.s!=="ready"&&s.s!=="running")(waiting[s.on]=waiting[s.on]||[]).push(nameOf(id))});
  Object.keys(owned).map(Number).sort(function(a,b){return a-b}).forEach(function(p){var h=owned[p], names=h[3].map(nameOf);
    if(!names.length&&!h[4]&&!waiting[p])return;
    li(held,h[2]+" "+p+" held by "+(names.length?names.join(", "):"no task")+(h[4]?" and "+h[4]+" more":"")+(waiting[p]?"; waiting: "+waiting[p].join(", "):""))});
  if(!held.firstChild)li(held,"(no lock or semaphore is held or waited on)");
  order.forEach(function(t){var s=st[t.id];if(!s)return;
    var tr=el("tr",e&&e[1]===t.id?{"class":"cur"}:{});
    [t.name,s.s,ENDS[s.s]||s.s==="running"||s.s==="ready"?"":(s.wait||s.s),s.where||""].forEach(function(c){tr.appendChild(el("td",{},c))});
    waits.appendChild(tr)});
}

// ---- controls; #t=SECONDS (the first step at that time) or #step=K ----
var timer=null, scrub=$("scrub");scrub.max=N;
function stop(){if(timer){clearInterval(timer);timer=null;$("play").innerHTML="&#x25B6;"}}
function play(){if(timer)return stop();if(+scrub.value>=N)show(0);$("play").innerHTML="&#x25A0;";
  timer=setInterval(function(){if(+scrub.value>=N)return stop();show(+scrub.value+1)},+$("speed").value)}
scrub.oninput=function(){stop();show(+scrub.value)};
$("play").onclick=play;$("speed").onchange=function(){if(timer){stop();play()}};
$("first").onclick=function(){stop();show(0)};
$("back").onclick=function(){stop();show(+scrub.value-1)};
$("fwd").onclick=function(){stop();show(+scrub.value+1)};
function fromHash(){var m=/^#(t|step)=([0-9.e+-]+)$/.exec(location.hash);if(!m)return 0;var v=+m[2];
  if(m[1]==="step")return v;for(var i=0;i<N;i++)if(E[i][0]>=v-1e-12)return i+1;return N}
window.onhashchange=function(){stop();show(fromHash())};
show(fromHash());
var ok=el("div",{id:"ok",style:"display:none"},"ok");document.body.appendChild(ok);
})();
</script>
</body></html>
]==]
