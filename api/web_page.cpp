// GET /: a single page that walks a person through a purchase with the public API.

#include "api/documents.hpp"

namespace encore::api {

const std::string& web_page() {
    static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Encore</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}
button{margin:.2em}.seat{display:inline-block;width:2.6em;margin:1px;padding:.2em 0;text-align:center;border:1px solid #888;cursor:pointer;font-size:.8em}
.AVAILABLE{background:#dfd}.HELD{background:#ffd}.SOLD{background:#fdd;cursor:default}
#log{white-space:pre-wrap;background:#f4f4f4;padding:.5em;font-size:.85em;max-height:14em;overflow:auto}
</style></head><body>
<h1>Encore</h1>
<p>Wallet: <b id="balance">-</b> won <button id="charge">Charge 100,000</button> <span id="who"></span></p>
<h2>Concerts</h2><div id="concerts">loading…</div>
<h2>Waiting room</h2><div id="queue">Pick a concert.</div>
<h2>Seats</h2><div id="dates"></div><div id="seats"></div>
<h2>My reservations</h2><div id="reservations"></div>
<h3>Log</h3><div id="log"></div>
<script>
const S={token:localStorage.encoreToken||null,queue:{},concert:null,date:null};
const $=id=>document.getElementById(id);
const log=t=>{$('log').textContent=t+'\n'+$('log').textContent};
async function api(method,path,body,queue){
  const h={'Content-Type':'application/json'};
  if(S.token)h.Authorization='Bearer '+S.token;
  if(queue)h['X-Queue-Token']=queue;
  const r=await fetch(path,{method,headers:h,body:body?JSON.stringify(body):undefined});
  const j=await r.json().catch(()=>({}));
  if(!r.ok)log(method+' '+path+' -> '+r.status+' '+(j.error?j.error.code+': '+j.error.message:''));
  return {status:r.status,body:j};
}
async function me(){
  if(!S.token){const r=await api('POST','/users',{name:'web'});S.token=r.body.token;localStorage.encoreToken=S.token;}
  let b=await api('GET','/users/me/balance');
  if(b.status===401){S.token=null;delete localStorage.encoreToken;return me();}
  $('balance').textContent=b.body.balance;$('who').textContent=b.body.userId;
  const rs=await api('GET','/users/me/reservations');
  $('reservations').innerHTML='';
  for(const r of rs.body.reservations||[]){
    const d=document.createElement('div');
    d.textContent=`${r.reservationId} ${r.date} seat ${r.seat} ${r.price} won ${r.status} `+(r.status==='HELD'?'until '+r.expiresAt:'');
    if(r.status==='HELD'){for(const [label,fn] of [['Pay',()=>api('POST',`/reservations/${r.reservationId}/pay`)],['Cancel',()=>api('DELETE',`/reservations/${r.reservationId}`)]]){
      const b=document.createElement('button');b.textContent=label;b.onclick=async()=>{await fn();refresh();};d.appendChild(b);}}
    $('reservations').appendChild(d);
  }
}
async function concerts(){
  const r=await api('GET','/concerts');$('concerts').innerHTML='';
  for(const c of r.body.concerts){const b=document.createElement('button');b.textContent=`${c.title} @ ${c.venue} (${c.dates.join(', ')})`;b.onclick=()=>join(c.concertId);$('concerts').appendChild(b);}
}
async function join(id){
  S.concert=id;const r=await api('POST',`/concerts/${id}/queue`);
  if(r.body.queueToken)S.queue[id]=r.body.queueToken;
  watch();
}
let es=null;
function watch(){
  if(es)es.close();
  es=new EventSource(`/concerts/${S.concert}/queue/stream?token=${encodeURIComponent(S.token)}&queueToken=${encodeURIComponent(S.queue[S.concert])}`);
  es.addEventListener('queue',ev=>{const q=JSON.parse(ev.data);
    $('queue').textContent=q.status==='WAITING'?`Waiting: position ${q.position}, about ${q.estimatedWaitSeconds}s`:`${q.status}`+(q.activeUntil?' until '+q.activeUntil:'');
    if(q.status==='ACTIVE')dates();});
}
async function dates(){
  const r=await api('GET',`/concerts/${S.concert}/dates`,null,S.queue[S.concert]);$('dates').innerHTML='';
  for(const d of r.body.dates||[]){const b=document.createElement('button');b.textContent=`${d.date} (${d.availableSeats}/${d.totalSeats})`;b.onclick=()=>{S.date=d.date;seats();};$('dates').appendChild(b);}
}
async function seats(){
  if(!S.date)return;
  const r=await api('GET',`/concerts/${S.concert}/dates/${S.date}/seats`,null,S.queue[S.concert]);$('seats').innerHTML='';
  for(const s of (r.body.seats||[]).slice(0,500)){const e=document.createElement('span');e.className='seat '+s.status;e.textContent=s.number;
    if(s.status==='AVAILABLE')e.onclick=async()=>{const h=await api('POST',`/concerts/${S.concert}/dates/${S.date}/seats/${s.number}/hold`,null,S.queue[S.concert]);if(h.status===201)log('held seat '+s.number);refresh();};
    $('seats').appendChild(e);}
}
async function refresh(){await me();if(S.concert&&S.date)await seats();}
$('charge').onclick=async()=>{await api('POST','/users/me/balance/charge',{amount:100000});me();};
me().then(concerts);setInterval(()=>{if(S.date)seats();},2000);
</script></body></html>
)HTML";
    return page;
}

}  // namespace encore::api
